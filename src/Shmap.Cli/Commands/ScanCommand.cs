using System.CommandLine;
using Shmap.Cli.Output;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap scan NAME [--prefix P | --from A --to B] [--limit N]</c>: entries in key order.</summary>
internal static class ScanCommand
{
    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument();
        var prefix = new Option<string?>("--prefix", "-p") { Description = "Only keys that start with P.", HelpName = "P" };
        var from = new Option<string?>("--from") { Description = "Only keys ≥ A (inclusive).", HelpName = "A" };
        var to = new Option<string?>("--to") { Description = "Only keys < B (exclusive).", HelpName = "B" };
        var limit = new Option<long?>("--limit", "-n") { Description = "Print at most N entries.", HelpName = "N" };
        Option<string> format = Common.FormatOption(
            "tsv",
            "tsv (KEY<TAB>VALUE, escaped), csv, jsonl, json (one object), or keys (keys only).",
            "tsv", "csv", "jsonl", "json", "keys");
        var command = new Command("scan", "Print entries in key order (ordinal UTF-8 byte order), optionally only a prefix or a range.")
        {
            name,
            prefix,
            from,
            to,
            limit,
            format,
        };
        command.Validators.Add(result =>
        {
            // Presence only: values may not have parsed (their own error is reported then).
            if (result.GetResult(prefix) is not null && (result.GetResult(from) is not null || result.GetResult(to) is not null))
            {
                result.AddError("--prefix cannot be combined with --from/--to.");
            }
        });
        app.SetAction(
            command,
            [
                "shmap scan cities --prefix par",
                "shmap scan cities --from a --to c --limit 10",
                "shmap scan cities --format keys | wc -l",
                "shmap scan cities --prefix user: --format jsonl | jq .value",
            ],
            (context, parseResult) =>
            {
                if (parseResult.GetValue(limit) is < 0)
                {
                    throw new CliException(ExitCodes.Usage, "--limit must be 0 or more.");
                }

                using SharedMap map = Common.Open(context, parseResult.GetRequiredValue(name));
                string? p = parseResult.GetValue(prefix);
                string? a = parseResult.GetValue(from);
                string? b = parseResult.GetValue(to);
                IEnumerable<KeyValuePair<string, string>> entries = p is not null ? map.StartsWith(p) : a is not null || b is not null ? map.Range(a, b) : map;
                OutputFormat output = OutputFormats.Parse(parseResult.GetRequiredValue(format), OutputFormat.Tsv, OutputFormat.Csv, OutputFormat.Jsonl, OutputFormat.Json, OutputFormat.Keys);
                Common.WriteEntries(context, entries, output, parseResult.GetValue(limit) ?? long.MaxValue);
                return ExitCodes.Ok;
            });
        return command;
    }
}
