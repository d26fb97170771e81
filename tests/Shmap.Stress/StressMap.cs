using System.Globalization;
using System.Text;

namespace Shmap.Stress;

/// <summary>
/// The shape of every map the stress verbs publish, built so that a reader can tell from the bytes
/// alone which publish a value came from and whether a version is complete:
/// <list type="bullet">
/// <item><c>k0000000</c> … <c>k{keys-1}</c>: value <c>{tag}:{key}:{pad}</c>, where the pad's bytes
/// depend on the tag too, so a value mixing two publishes does not parse.</item>
/// <item><c>x0</c> … <c>x{extras-1}</c>: 0 to 3 extra keys, a number that changes with every
/// publish, so the key set (and Count) changes too.</item>
/// <item><c>__tag</c> = the tag, <c>__count</c> = the entry count, <c>__pad</c> = the pad length.</item>
/// </list>
/// The tag is the version number when one publisher owns the name (it can predict its next
/// version), or <c>{publisher id}.{n}</c> when several race.
/// </summary>
internal sealed class StressMap
{
    public const string TagKey = "__tag";
    public const string CountKey = "__count";
    public const string PadKey = "__pad";
    public const int MaxExtras = 4;
    public const int MetaKeys = 3;

    private readonly byte[][] _keys;
    private readonly byte[] _pattern;

    public StressMap(int keys, int padBytes)
    {
        if (keys < 1 || padBytes < 0)
        {
            throw new OptionException("--keys must be at least 1 and --pad at least 0.");
        }

        Keys = keys;
        PadBytes = padBytes;
        _keys = new byte[keys][];
        for (int i = 0; i < keys; i++)
        {
            _keys[i] = Encoding.UTF8.GetBytes(Key(i));
        }

        // Pad of shift s = _pattern[s..s+padBytes]: one vectorised compare checks a whole pad.
        _pattern = new byte[padBytes + 26];
        for (int i = 0; i < _pattern.Length; i++)
        {
            _pattern[i] = (byte)('a' + (i % 26));
        }
    }

    public int Keys { get; }

    public int PadBytes { get; }

    /// <summary>Rank of key i in every version: the meta keys sort first ('_' &lt; 'k'), extras last.</summary>
    public static int RankOf(int i) => MetaKeys + i;

    public static string Key(int i) => "k" + i.ToString("D7", CultureInfo.InvariantCulture);

    public static string ExtraKey(int j) => "x" + j.ToString(CultureInfo.InvariantCulture);

    public static int ExtrasFor(long sequence) => (int)(sequence % MaxExtras);

    public int CountFor(int extras) => Keys + extras + MetaKeys;

    public ReadOnlySpan<byte> KeyUtf8(int i) => _keys[i];

    /// <summary>Replaces the builder's entries with the version tagged <paramref name="tag"/>.</summary>
    public void Fill(SharedMapBuilder builder, string tag, int extras)
    {
        builder.Clear();
        byte[] tagBytes = Encoding.UTF8.GetBytes(tag);
        byte[] buffer = new byte[tagBytes.Length + 16 + PadBytes];
        for (int i = 0; i < Keys; i++)
        {
            builder.Set(_keys[i], Value(buffer, tagBytes, _keys[i]));
        }

        for (int j = 0; j < extras; j++)
        {
            byte[] key = Encoding.UTF8.GetBytes(ExtraKey(j));
            builder.Set(key, Value(buffer, tagBytes, key));
        }

        builder.Set(TagKey, tag);
        builder.Set(CountKey, CountFor(extras).ToString(CultureInfo.InvariantCulture));
        builder.Set(PadKey, PadBytes.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Checks that <paramref name="value"/> is exactly what some publish wrote for <paramref name="key"/>
    /// and returns that publish's tag; null (and a reason) when it is not.
    /// </summary>
    public bool TryParse(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, out ReadOnlySpan<byte> tag, out string? error)
    {
        tag = default;
        int colon = value.IndexOf((byte)':');
        if (colon <= 0)
        {
            error = "no tag";
            return false;
        }

        tag = value[..colon];
        ReadOnlySpan<byte> rest = value[(colon + 1)..];
        if (rest.Length != key.Length + 1 + PadBytes || !rest.StartsWith(key) || rest[key.Length] != (byte)':')
        {
            error = $"value of {value.Length} bytes does not hold key and a {PadBytes}-byte pad";
            return false;
        }

        if (!rest[(key.Length + 1)..].SequenceEqual(Pad(tag)))
        {
            error = "pad does not match the tag (a value mixing two publishes?)";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Tag as a version number (tags are versions when one publisher predicts them).</summary>
    public static bool TryParseVersion(ReadOnlySpan<byte> tag, out long version) =>
        long.TryParse(tag, NumberStyles.None, CultureInfo.InvariantCulture, out version) && version > 0;

    public static string Describe(ReadOnlySpan<byte> bytes) =>
        bytes.Length <= 64 ? Encoding.UTF8.GetString(bytes) : Encoding.UTF8.GetString(bytes[..64]) + $"…({bytes.Length} bytes)";

    private ReadOnlySpan<byte> Pad(ReadOnlySpan<byte> tag)
    {
        int shift = 0;
        foreach (byte b in tag)
        {
            shift += b;
        }

        return _pattern.AsSpan(shift % 26, PadBytes);
    }

    private ReadOnlySpan<byte> Value(byte[] buffer, byte[] tag, byte[] key)
    {
        int length = tag.Length + 1 + key.Length + 1 + PadBytes;
        if (buffer.Length < length)
        {
            throw new InvalidOperationException("value buffer too small");
        }

        Span<byte> span = buffer.AsSpan(0, length);
        tag.CopyTo(span);
        span[tag.Length] = (byte)':';
        key.CopyTo(span[(tag.Length + 1)..]);
        span[tag.Length + 1 + key.Length] = (byte)':';
        Pad(tag).CopyTo(span[(tag.Length + 2 + key.Length)..]);
        return span;
    }
}
