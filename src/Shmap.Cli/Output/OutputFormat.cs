using Shmap.Cli.Input;

namespace Shmap.Cli.Output;

/// <summary>How <c>get</c>, <c>scan</c> and <c>export</c> print pairs (docs/CLI.md, "Formats").</summary>
internal enum OutputFormat
{
    /// <summary><c>KEY\tVALUE</c>, escaped as TSV input is: what <c>share</c> reads back.</summary>
    Tsv,

    /// <summary>RFC 4180, fields quoted when needed, LF line ends.</summary>
    Csv,

    /// <summary><c>{"key":"k","value":"v"}</c> per line.</summary>
    Jsonl,

    /// <summary>One object <c>{"k": "v", …}</c>.</summary>
    Json,

    /// <summary>Keys only, escaped as in TSV, one a line.</summary>
    Keys,

    /// <summary>Values only, verbatim, one a line (<c>get</c>'s default).</summary>
    Value,
}

internal static class OutputFormats
{
    public static OutputFormat Parse(string text, params OutputFormat[] allowed)
    {
        OutputFormat? format = text.ToUpperInvariant() switch
        {
            "TSV" => OutputFormat.Tsv,
            "CSV" => OutputFormat.Csv,
            "JSONL" or "NDJSON" => OutputFormat.Jsonl,
            "JSON" => OutputFormat.Json,
            "KEYS" => OutputFormat.Keys,
            "VALUE" or "VALUES" => OutputFormat.Value,
            _ => null,
        };
        if (format is null || !allowed.Contains(format.Value))
        {
            string names = string.Join('|', allowed.Select(f => f.ToString().ToLowerInvariant()));
            throw new CliException(ExitCodes.Usage, $"unknown output format '{text}'; use one of {names}.");
        }

        return format.Value;
    }

    /// <summary>The input format that reads this output back, if any.</summary>
    public static DataFormat? AsInput(OutputFormat format) => format switch
    {
        OutputFormat.Tsv => DataFormat.Tsv,
        OutputFormat.Csv => DataFormat.Csv,
        OutputFormat.Jsonl => DataFormat.Jsonl,
        OutputFormat.Json => DataFormat.Json,
        _ => null,
    };
}
