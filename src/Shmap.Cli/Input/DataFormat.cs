namespace Shmap.Cli.Input;

/// <summary>The text formats shmap reads key/value pairs from and writes them to (docs/CLI.md, "Formats").</summary>
internal enum DataFormat
{
    /// <summary><c>key\tvalue</c> per line; backslash escapes <c>\t \n \r \\</c>.</summary>
    Tsv,

    /// <summary>RFC 4180, two columns, no header.</summary>
    Csv,

    /// <summary>One JSON value per line: <c>{"key":"k","value":"v"}</c> or <c>["k","v"]</c>.</summary>
    Jsonl,

    /// <summary>One JSON object: <c>{"k":"v",...}</c>.</summary>
    Json,
}

internal static class DataFormats
{
    public const string InputNames = "tsv|csv|jsonl|json";

    public static DataFormat Parse(string text) => text.ToUpperInvariant() switch
    {
        "TSV" or "TAB" => DataFormat.Tsv,
        "CSV" => DataFormat.Csv,
        "JSONL" or "NDJSON" => DataFormat.Jsonl,
        "JSON" => DataFormat.Json,
        _ => throw new CliException(ExitCodes.Usage, $"unknown format '{text}'; use one of {InputNames}."),
    };

    /// <summary>The format a file name's extension implies, or null (for example for stdin).</summary>
    public static DataFormat? FromExtension(string path)
    {
        string name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return System.IO.Path.GetExtension(name).ToUpperInvariant() switch
        {
            ".TSV" or ".TAB" or ".TXT" => DataFormat.Tsv,
            ".CSV" => DataFormat.Csv,
            ".JSONL" or ".NDJSON" => DataFormat.Jsonl,
            ".JSON" => DataFormat.Json,
            _ => null,
        };
    }
}
