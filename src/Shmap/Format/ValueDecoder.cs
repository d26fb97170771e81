using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.Unicode;

namespace Shmap.Format;

/// <summary>
/// Decodes a value read from a snapshot into a string, allocating only that string: for values
/// of 16 to 128 bytes, one pass that tells ASCII apart with no branch on the bytes but "ASCII or
/// not", then one allocation of the exact length, filled by a branch-free widening (ASCII) or,
/// for other text, counted and then filled by the runtime's UTF-8 transcoder. Results are exactly
/// those of <see cref="Utf8Text.Decode"/> (bytes that are not UTF-8 become U+FFFD).
/// </summary>
/// <remarks>
/// <para>Why: a string lookup on a large map waits for one or two cache misses; the CPU hides the
/// next lookup's misses behind them only when the work between them is short and its branches go
/// the same way every time. The general decoders check the bytes, count the characters and copy
/// them in loops whose trip counts follow each value's length, so they mispredict on values of a
/// new length and keep consecutive lookups from overlapping.</para>
/// <para>How: the value is read as eight 16-byte chunks at offsets 0, 16, … clamped to its last 16
/// bytes (chunks past the end repeat the last one): every load is inside the value, the same
/// eight loads whatever its length, and no cache line past it is touched.</para>
/// <para>Trusts nothing in the bytes: a count that lies (bytes that are not UTF-8) is caught by the
/// transcoder, and the general decoder answers. Stores write inside the new string only.</para>
/// </remarks>
internal static unsafe class ValueDecoder
{
    /// <summary>Shortest value of the fast path: one chunk.</summary>
    private const int MinLength = 16;

    /// <summary>Longest value of the fast path: eight chunks.</summary>
    private const int MaxLength = 128;

    /// <summary>The string of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static string Decode(ReadOnlySpan<byte> value)
    {
        int n = value.Length;
        if ((uint)(n - MinLength) > MaxLength - MinLength || !Vector128.IsHardwareAccelerated)
        {
            return DecodeOther(value);
        }

        fixed (byte* pointer = value)
        {
            int last = n - 16;
            Vector128<byte> any = Vector128.Load(pointer)
                | Vector128.Load(pointer + Math.Min(16, last)) | Vector128.Load(pointer + Math.Min(32, last))
                | Vector128.Load(pointer + Math.Min(48, last)) | Vector128.Load(pointer + Math.Min(64, last))
                | Vector128.Load(pointer + Math.Min(80, last)) | Vector128.Load(pointer + Math.Min(96, last))
                | Vector128.Load(pointer + Math.Min(112, last));
            return any.ExtractMostSignificantBits() == 0
                ? string.Create(n, (nint)pointer, static (chars, address) => Widen((byte*)address, chars))
                : Transcode(pointer, n) ?? DecodeOther(value);
        }
    }

    /// <summary>Values outside the fast path: the general decoder.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string DecodeOther(ReadOnlySpan<byte> value) => Utf8Text.Decode(value);

    /// <summary>
    /// Widens <paramref name="chars"/>.Length (16 to 128) ASCII bytes at <paramref name="source"/>:
    /// eight 16-char stores at the chunks' offsets (the clamped ones store the same chars again),
    /// so the work is the same whatever the length.
    /// </summary>
    private static void Widen(byte* source, Span<char> chars)
    {
        int last = chars.Length - 16;
        fixed (char* target = chars)
        {
            for (int k = 0; k < 8; k++)
            {
                int at = Math.Min(16 * k, last);
                Vector128<byte> bytes = Vector128.Load(source + at);
                if (Avx2.IsSupported)
                {
                    Avx2.ConvertToVector256Int16(bytes).AsUInt16().Store((ushort*)target + at);
                }
                else
                {
                    (Vector128<ushort> lower, Vector128<ushort> upper) = Vector128.Widen(bytes);
                    lower.Store((ushort*)target + at);
                    upper.Store((ushort*)target + at + 8);
                }
            }
        }
    }

    /// <summary>
    /// The UTF-16 text of <paramref name="n"/> (16 to 128) UTF-8 bytes at <paramref name="source"/>,
    /// allocated once at its length; null when the bytes are not UTF-8.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string? Transcode(byte* source, int n)
    {
        // One unit a byte that is no continuation byte (10xxxxxx), one more a 4-byte sequence's
        // leader (its surrogate pair): exact when the bytes are UTF-8. Chunk k owns the bytes from
        // 16k on; a clamped chunk's first bytes belong to the chunks before it.
        int last = n - 16;
        int units = 0;
        Vector128<sbyte> continuation = Vector128.Create((sbyte)-64);
        Vector128<byte> leader4 = Vector128.Create((byte)0xEF);
        for (int k = 0; k < 8; k++)
        {
            int at = Math.Min(16 * k, last);
            uint owned = (uint)(ulong.MaxValue << Math.Min((16 * k) - at, 63)) & 0xFFFF;
            Vector128<byte> bytes = Vector128.Load(source + at);
            units += BitOperations.PopCount(owned & ~Vector128.LessThan(bytes.AsSByte(), continuation).ExtractMostSignificantBits())
                + BitOperations.PopCount(owned & Vector128.GreaterThan(bytes, leader4).ExtractMostSignificantBits());
        }

        bool ok = false;
        string text = string.Create(units, new TranscodeState(source, n, &ok), static (chars, state) =>
        {
            *state.Ok = Utf8.ToUtf16(new ReadOnlySpan<byte>(state.Source, state.Length), chars, out _, out int written, replaceInvalidSequences: false) == OperationStatus.Done
                && written == chars.Length;
        });
        return ok ? text : null;
    }

    private readonly struct TranscodeState(byte* source, int length, bool* ok)
    {
        public byte* Source { get; } = source;

        public int Length { get; } = length;

        public bool* Ok { get; } = ok;
    }
}
