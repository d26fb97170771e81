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
        var keys = new Argument<string[]>("KEY") { Description = "Keys to look up.", Arity = ArgumentArity.OneOrMore };
        Option<string> format = Common.FormatOption(
            "value",
            "value: each value as is, one a line; tsv: KEY<TAB>VALUE escaped; jsonl: {\"key\",\"value\"} a line; json: one object, null for missing keys.",
            "value", "tsv", "jsonl", "json");
        var command = new Command("get", "Print the values of keys, in the order given. Exit code 1 if any key is missing (each missing key is named on stderr).")
        {
            name,
            keys,
            format,
        };
        app.SetAction(
            command,
            [
                "shmap get cities paris",
                "shmap get cities paris rome --format tsv",
                "shmap get test:3325 红                  # prints 32是",
                "v=$(shmap get config db.host) || echo 'not set'",
            ],
            (context, parseResult) => Run(
                context,
                parseResult.GetRequiredValue(name),
                parseResult.GetRequiredValue(keys),
                OutputFormats.Parse(parseResult.GetRequiredValue(format), OutputFormat.Value, OutputFormat.Tsv, OutputFormat.Jsonl, OutputFormat.Json)));
        return command;
    }

    private static int Run(CliContext context, string name, string[] keys, OutputFormat format)
    {
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
            if (values[i] is null)
            {
                missing++;
                context.Error.WriteLine($"shmap: key {Display.Text(keys[i])} not found in '{name}'.");
            }
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
