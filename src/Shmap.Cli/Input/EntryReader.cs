namespace Shmap.Cli.Input;

/// <summary>Reads every pair of an input in one of the <see cref="DataFormat"/>s into a sink.</summary>
internal static class EntryReader
{
    public static void Read(Stream input, DataFormat format, string source, IEntrySink sink, CancellationToken cancellation)
    {
        switch (format)
        {
            case DataFormat.Tsv:
                TsvParser.Read(input, source, sink, cancellation);
                break;
            case DataFormat.Csv:
                CsvParser.Read(input, source, sink, cancellation);
                break;
            case DataFormat.Jsonl:
                JsonLinesParser.Read(input, source, sink, cancellation);
                break;
            case DataFormat.Json:
                JsonObjectParser.Read(input, source, sink, cancellation);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown format.");
        }
    }
}
