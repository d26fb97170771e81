using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Shmap.Format;

/// <summary>
/// The hash written into snapshots: XXH3-64 (xxHash 0.8, <c>XXH3_64bits_withSeed</c>) of the key's
/// UTF-8 bytes with the seed stored in the header. Stable across processes, machines and
/// languages, unlike <see cref="string.GetHashCode()"/>.
/// </summary>
internal static class StableHash
{
    /// <summary>The seed the builder writes. Fixed so that the same input always gives the same bytes.</summary>
    public const ulong DefaultSeed = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(ReadOnlySpan<byte> utf8Key, ulong seed) => XxHash3.HashToUInt64(utf8Key, unchecked((long)seed));

    /// <summary>The home slot of a hash: the high 64 bits of <paramref name="hash"/> × <paramref name="homeSlots"/>, so that home order is hash order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Home(ulong hash, ulong homeSlots) => Math.BigMul(hash, homeSlots, out _);
}
