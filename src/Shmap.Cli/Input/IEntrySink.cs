namespace Shmap.Cli.Input;

/// <summary>Receives the pairs a parser reads, as UTF-8, with the line each came from.</summary>
internal interface IEntrySink
{
    void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long line);
}
