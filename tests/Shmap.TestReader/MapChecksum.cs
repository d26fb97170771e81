using System.IO.Hashing;
using System.Text;

namespace Shmap.TestReader;

/// <summary>
/// A checksum of a map's entries in order, computed the same way by the test (which links this
/// file) and by the child process: XXH3-64 over key bytes, 0xFF, value bytes, 0xFF for each entry
/// (0xFF never occurs in UTF-8, so entries cannot run into each other).
/// </summary>
public static class MapChecksum
{
    public static string Of(IEnumerable<KeyValuePair<string, string>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var hash = new XxHash3();
        ReadOnlySpan<byte> separator = [0xFF];
        foreach ((string key, string value) in entries)
        {
            hash.Append(Encoding.UTF8.GetBytes(key));
            hash.Append(separator);
            hash.Append(Encoding.UTF8.GetBytes(value));
            hash.Append(separator);
        }

        return hash.GetCurrentHashAsUInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The value every key has in version <paramref name="version"/> of a followed map.</summary>
    public static string VersionedValue(long version, string key) => $"{version}|{key}";

    /// <summary>How many entries version <paramref name="version"/> of a followed map has.</summary>
    public static int VersionedCount(long version) => 20 + (int)(version * 7 % 50);
}
