using System.Text;

namespace Shmap.Tests;

/// <summary>
/// The reference order of the model: ordinal over UTF-8 bytes (equal to Unicode code point order).
/// Deliberately not <see cref="StringComparer.Ordinal"/>, which compares UTF-16 code units and puts
/// U+E000..U+FFFF after supplementary characters.
/// </summary>
public sealed class Utf8Order : IComparer<string>
{
    public static readonly Utf8Order Instance = new();

    public int Compare(string? x, string? y) => Encoding.UTF8.GetBytes(x!).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y!));

    /// <summary>A model map: a <see cref="SortedDictionary{TKey, TValue}"/> in UTF-8 byte order.</summary>
    public static SortedDictionary<string, string> NewModel() => new(Instance);
}
