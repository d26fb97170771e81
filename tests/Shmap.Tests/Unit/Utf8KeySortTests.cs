using CsCheck;
using Shmap.Building;

namespace Shmap.Tests.Unit;

/// <summary>
/// The builder's key order (an 8-byte-digit radix sort) against a comparison sort by ordinal bytes:
/// keys from a few byte values (NUL and 0xFF included) so they share digits, end inside a shared
/// digit, and differ only past 8 or 16 bytes; lengths around the digit boundaries.
/// </summary>
public class Utf8KeySortTests
{
    private static readonly Gen<byte[]> s_key = Gen.Frequency(
        (3, Gen.OneOfConst<byte>(0x00, 0x01, 0x61, 0x7F, 0x80, 0xFF).Array[0, 27]),
        (1, Gen.Select(Gen.Int[0, 40], Gen.OneOfConst<byte>(0x00, 0x61, 0xFF).Array[0, 5], (shared, tail) => Enumerable.Repeat((byte)0x61, shared).Concat(tail).ToArray())));

    [Fact]
    public void Order_DistinctKeys_SameAsComparisonSort()
    {
        s_key.Array[0, 300].Sample(
            keys =>
            {
                byte[][] distinct = [.. keys.DistinctBy(Convert.ToHexString)];
                int[] order = Utf8KeySort.Order(distinct, distinct.Length);
                byte[][] expected = [.. distinct.Order(Comparer<byte[]>.Create(static (a, b) => a.AsSpan().SequenceCompareTo(b)))];
                Assert.Equal(expected.Select(Convert.ToHexString), order.Select(i => Convert.ToHexString(distinct[i])));
            },
            iter: 2000);
    }

    [Fact]
    public void Order_OnlyThePrefixOfTheArray_IsSorted()
    {
        byte[][] keys = [[3], [1], [2], [0]];
        Assert.Equal([1, 2, 0], Utf8KeySort.Order(keys, 3));
    }
}
