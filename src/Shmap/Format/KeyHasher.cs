using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Shmap.Format;

/// <summary>
/// <see cref="StableHash"/> for one seed, with the paths of the common key lengths (9 to 32 bytes)
/// written inline and their seed-dependent constants computed once: the same value as
/// <see cref="XxHash3.HashToUInt64(ReadOnlySpan{byte}, long)"/> (xxHash 0.8,
/// <c>XXH3_len_9to16_64b</c> and the 17-to-32-byte case of <c>XXH3_len_17to128_64b</c>), which
/// other lengths call. A lookup that misses memory twice is bound by how many instructions the CPU
/// can keep in flight past those misses; the library's call and its length dispatch cost a
/// lookup more than the arithmetic does.
/// </summary>
/// <remarks>
/// Unsafe (<c>Unsafe.ReadUnaligned</c> on the span's reference) only in <c>Read</c>: the inline
/// paths load at offsets 0, 8, length - 16 and length - 8 of keys of 9 to 32 bytes, all inside the
/// key (checked: other lengths take the library's call). Trusts nothing else.
/// </remarks>
internal readonly struct KeyHasher
{
    private const ulong Prime64One = 0x9E3779B185EBCA87;

    // The first 64 bytes of XXH3's default secret (kSecret), read as little-endian u64 words.
    private const ulong Secret0 = 0xBE4BA423396CFEB8;
    private const ulong Secret8 = 0x1CAD21F72C81017C;
    private const ulong Secret16 = 0xDB979083E96DD4DE;
    private const ulong Secret24 = 0x1F67B3B7A4A44072;
    private const ulong Secret32 = 0x78E5C0CC4EE679CB;
    private const ulong Secret40 = 0x2172FFCC7DD05A82;
    private const ulong Secret48 = 0x8E2443F7744608B8;

    private readonly long _seed;
    private readonly ulong _mixLow0;
    private readonly ulong _mixHigh0;
    private readonly ulong _mixLow16;
    private readonly ulong _mixHigh16;
    private readonly ulong _flip1;
    private readonly ulong _flip2;

    public KeyHasher(ulong seed)
    {
        _seed = unchecked((long)seed);
        _mixLow0 = Secret0 + seed;
        _mixHigh0 = Secret8 - seed;
        _mixLow16 = Secret16 + seed;
        _mixHigh16 = Secret24 - seed;
        _flip1 = (Secret24 ^ Secret32) + seed;
        _flip2 = (Secret40 ^ Secret48) - seed;
    }

    /// <summary>XXH3-64 of <paramref name="key"/> with this hasher's seed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Hash(ReadOnlySpan<byte> key)
    {
        uint length = (uint)key.Length;
        if (length - 9 > 32 - 9)
        {
            return Other(key);
        }

        ref byte p = ref MemoryMarshal.GetReference(key);
        ulong acc;
        if (length > 16)
        {
            // 17..32 bytes: two 16-byte mixes, from the start and from the end.
            acc = (length * Prime64One)
                + Fold(Read(ref p, 0) ^ _mixLow0, Read(ref p, 8) ^ _mixHigh0)
                + Fold(Read(ref p, length - 16) ^ _mixLow16, Read(ref p, length - 8) ^ _mixHigh16);
        }
        else
        {
            // 9..16 bytes: the first and the last 8.
            ulong low = Read(ref p, 0) ^ _flip1;
            ulong high = Read(ref p, length - 8) ^ _flip2;
            acc = length + BinaryPrimitives.ReverseEndianness(low) + high + Fold(low, high);
        }

        // XXH3_avalanche.
        acc ^= acc >> 37;
        acc *= 0x165667919E3779F9;
        return acc ^ (acc >> 32);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong Other(ReadOnlySpan<byte> key) => XxHash3.HashToUInt64(key, _seed);

    /// <summary>XXH3_mul128_fold64: the 128-bit product's halves, xored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Fold(ulong a, ulong b)
    {
        ulong high = Math.BigMul(a, b, out ulong low);
        return high ^ low;
    }

    /// <summary>A little-endian u64 at <paramref name="offset"/> (the caller keeps it inside the key).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read(ref byte start, uint offset)
    {
        ulong value = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }
}
