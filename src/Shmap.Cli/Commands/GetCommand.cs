using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Shmap.Cli.Output;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap get NAME KEY...</c>: print the values of keys.</summary>
internal static class GetCommand
{
    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument();
        var keys = new Argument<string[]>("KEY") { Description = "Keys to look up.", Arity = ArgumentArity.ZeroOrMore };
        var keysFrom = new Option<string?>("--keys-from")
        {
            Description = "Also look up the keys in FILE (- for stdin), one a line, TSV-escaped (\\t \\n \\r \\\\): e.g. the first column of a TSV.",
            HelpName = "FILE",
        };
        Option<string> format = Common.FormatOption(
            "value",
            "value: each value as is, one a line; tsv: KEY<TAB>VALUE escaped; jsonl: {\"key\",\"value\"} a line; json: one object, null for missing keys.",
            "value", "tsv", "jsonl", "json");
        var command = new Command("get", "Print the values of keys, in the order given. Exit code 1 if any key is missing (each missing key is named on stderr).")
        {
            name,
            keys,
            keysFrom,
            format,
        };
        app.SetAction(
            command,
            [
                "shmap get cities paris",
                "shmap get cities paris rome --format tsv",
                "shmap get test:3325 红                  # prints 32是",
                "v=$(shmap get config db.host) || echo 'not set'",
                "cut -f1 orders.tsv | shmap get users --keys-from - --format tsv",
            ],
            (context, parseResult) => Run(
                context,
                parseResult.GetRequiredValue(name),
                [.. parseResult.GetValue(keys) ?? [], .. ReadKeys(context, parseResult.GetValue(keysFrom))],
                OutputFormats.Parse(parseResult.GetRequiredValue(format), OutputFormat.Value, OutputFormat.Tsv, OutputFormat.Jsonl, OutputFormat.Json)));
        return command;
    }

    /// <summary>Most missing keys named on stderr; the rest are counted.</summary>
    private const int MissingShown = 10;

    private static List<string> ReadKeys(CliContext context, string? file)
    {
        if (file is null)
        {
            return [];
        }

        var keys = new List<string>();
        using Stream input = file == "-" ? context.Streams.Input : Common.OpenInputFile(file);
        using var reader = new StreamReader(input, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: file == "-");
        long line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length > 0)
            {
                keys.Add(Input.TsvParser.Unescape(text, file == "-" ? "stdin" : file, line));
            }
        }

        return keys;
    }

    private static int Run(CliContext context, string name, string[] keys, OutputFormat format)
    {
        if (keys.Length == 0)
        {
            throw new CliException(ExitCodes.Usage, "no keys to look up: give KEY arguments or --keys-from.");
        }

        using SharedMap map = Common.Open(context, name);
        var values = new string?[keys.Length];
        map.GetMany(keys, values);

        if (format == OutputFormat.Json)
        {
            WriteJson(context, keys, values);
        }
        else
        {
            Common.WriteEntries(context, Found(keys, values), format);
        }

        int missing = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (values[i] is null && ++missing <= MissingShown)
            {
                context.Error.WriteLine($"shmap: key {Display.Text(keys[i])} not found in '{name}'.");
            }
        }

        if (missing > MissingShown)
        {
            context.Error.WriteLine($"shmap: … and {Display.Count(missing - MissingShown)} more keys not found in '{name}' ({Display.Count(missing)} of {Display.Count(keys.Length)}).");
        }

        return missing == 0 ? ExitCodes.Ok : ExitCodes.NotFound;
    }

    private static IEnumerable<KeyValuePair<string, string>> Found(string[] keys, string?[] values)
    {
        for (int i = 0; i < keys.Length; i++)
        {
            if (values[i] is { } value)
            {
                yield return new(keys[i], value);
            }
        }
    }

    private static void WriteJson(CliContext context, string[] keys, string?[] values)
    {
        Stream output = context.DataOutput();
        using (var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            for (int i = 0; i < keys.Length; i++)
            {
                if (values[i] is { } value)
                {
                    json.WriteString(keys[i], value);
                }
                else
                {
                    json.WriteNull(keys[i]);
                }
            }

            json.WriteEndObject();
        }

        output.Write("\n"u8);
        output.Flush();
    }
}
