using System.CommandLine;
using Shmap.Cli.Output;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap export NAME [--format F] [--output FILE]</c>: every entry as text that <c>share</c> reads back.</summary>
internal static class ExportCommand
{
    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument();
        Option<string> format = Common.FormatOption("tsv", "tsv, csv, jsonl or json; each is read back by 'shmap share' unchanged.", "tsv", "csv", "jsonl", "json");
        var output = new Option<string?>("--output", "-o") { Description = "Write to FILE (created or truncated) instead of stdout.", HelpName = "FILE" };
        var command = new Command("export", "Print every entry in key order as text that 'shmap share' reads back unchanged.")
        {
            name,
            format,
            output,
        };
        app.SetAction(
            command,
            [
                "shmap export cities > cities.tsv",
                "shmap export cities --format jsonl -o cities.jsonl",
                "shmap export cities | shmap share cities-copy -      # copy a map",
            ],
            (context, parseResult) =>
            {
                using SharedMap map = Common.Open(context, parseResult.GetRequiredValue(name));
                OutputFormat outputFormat = OutputFormats.Parse(parseResult.GetRequiredValue(format), OutputFormat.Tsv, OutputFormat.Csv, OutputFormat.Jsonl, OutputFormat.Json);
                string? file = parseResult.GetValue(output);
                if (file is null)
                {
                    Common.WriteEntries(context, map, outputFormat);
                    return ExitCodes.Ok;
                }

                using (var stream = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                using (var writer = new EntryWriter(stream, outputFormat))
                {
                    foreach (KeyValuePair<string, string> entry in map)
                    {
                        writer.Write(entry.Key, entry.Value);
                    }

                    writer.Complete();
                }

                context.Error.WriteLine($"exported {Display.Entries(map.Count)} of '{map.Name}' version {map.Version} to {file}");
                return ExitCodes.Ok;
            });
        return command;
    }
}
