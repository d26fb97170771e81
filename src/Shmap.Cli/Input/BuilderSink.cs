using System.Text.Unicode;

namespace Shmap.Cli.Input;

/// <summary>
/// Puts parsed pairs into a <see cref="SharedMapBuilder"/>, checking what the builder cannot
/// report by line: UTF-8 validity and duplicate keys.
/// </summary>
internal sealed class BuilderSink : IEntrySink
{
    private readonly SharedMapBuilder _builder;
    private readonly string _source;
    private readonly bool _lastWins;
    private long _duplicates;
    private long _pairs;

    public BuilderSink(SharedMapBuilder builder, string source, bool lastWins)
    {
        _builder = builder;
        _source = source;
        _lastWins = lastWins;
    }

    /// <summary>Pairs read so far (duplicates included); safe to read from another thread.</summary>
    public long Pairs => Volatile.Read(ref _pairs);

    /// <summary>Pairs whose key had been seen before (replaced, with --last-wins).</summary>
    public long Duplicates => _duplicates;

    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long line)
    {
        if (!Utf8.IsValid(key))
        {
            throw new InputException(_source, line, "the key is not valid UTF-8; shmap stores text: convert the input to UTF-8 first (iconv -t UTF-8).");
        }

        if (!Utf8.IsValid(value))
        {
            throw new InputException(_source, line, "the value is not valid UTF-8; shmap stores text: convert the input to UTF-8 first (iconv -t UTF-8).");
        }

        int before = _builder.Count;
        _builder.Set(key, value);
        Volatile.Write(ref _pairs, _pairs + 1);
        if (_builder.Count == before)
        {
            if (!_lastWins)
            {
                throw new InputException(_source, line, $"duplicate key {Display.Text(key)}; each key may appear once (pass --last-wins to keep the last value).");
            }

            _duplicates++;
        }
    }
}
