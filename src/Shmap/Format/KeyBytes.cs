using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Shmap.Format;

/// <summary>Byte equality of two keys, inline for the common lengths.</summary>
/// <remarks>
/// Unsafe (<c>Unsafe.ReadUnaligned</c>, <c>Vector128.LoadUnsafe</c> on span references) because a
/// bounds-checked compare costs a lookup loop more than it can afford. Trusts nothing: both spans
/// are the caller's, and every load is inside both of them (the length is checked equal first,
/// and each load of 8 or 16 bytes is at offset 0 or length - 8/16 of a key at least that long).
/// </remarks>
internal static class KeyBytes
{
    /// <summary>
    /// Whether <paramref name="a"/> and <paramref name="b"/> hold the same bytes. Keys of 8 to 32
    /// bytes are compared with two overlapping loads from each end, inline (no call, no length
    /// dispatch: what a lookup loop can afford); other lengths use <see cref="MemoryExtensions.SequenceEqual{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equal(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int length = a.Length;
        if (length != b.Length)
        {
            return false;
        }

        ref byte x = ref MemoryMarshal.GetReference(a);
        ref byte y = ref MemoryMarshal.GetReference(b);
        if ((uint)(length - 16) <= 16 && Vector128.IsHardwareAccelerated)
        {
            // 16..32 bytes: the first 16 and the last 16 (overlapping when shorter than 32).
            Vector128<byte> head = Vector128.LoadUnsafe(ref x) ^ Vector128.LoadUnsafe(ref y);
            Vector128<byte> tail = Vector128.LoadUnsafe(ref x, (nuint)(length - 16)) ^ Vector128.LoadUnsafe(ref y, (nuint)(length - 16));
            return (head | tail) == Vector128<byte>.Zero;
        }

        if ((uint)(length - 8) < 8)
        {
            // 8..15 bytes: the first 8 and the last 8.
            ulong head = Unsafe.ReadUnaligned<ulong>(ref x) ^ Unsafe.ReadUnaligned<ulong>(ref y);
            ulong tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref x, length - 8)) ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref y, length - 8));
            return (head | tail) == 0;
        }

        return a.SequenceEqual(b);
    }
}
