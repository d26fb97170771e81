namespace Shmap.Format;

/// <summary>
/// A record of the data section (docs/FORMAT.md, "Records"): the key's length and the value's
/// length, each LEB128 (minimal, at most 5 bytes, at most 2^31-1), then the key's bytes, then the
/// value's. The writer and the reader both go through here; the reader's hot path inlines only
/// the one-byte case (<see cref="OneByteLimit"/>) and calls <see cref="ReadLengths"/> otherwise.
/// </summary>
internal static class RecordCodec
{
    /// <summary>Lengths below this take one byte (no continuation bit).</summary>
    public const uint OneByteLimit = 0x80;

    /// <summary>Why <see cref="ReadLengths"/> could not read the lengths.</summary>
    public enum LengthError
    {
        /// <summary>The lengths were read.</summary>
        None,

        /// <summary>A length runs past 5 bytes or past the end of the data.</summary>
        Unterminated,

        /// <summary>A length is above 2^31-1 or not minimally encoded.</summary>
        NotMinimal,
    }

    /// <summary>Bytes the LEB128 encoding of <paramref name="value"/> takes.</summary>
    public static int LengthSize(uint value) => value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5;

    /// <summary>Bytes one record takes in the data section.</summary>
    public static long RecordLength(int keyLength, int valueLength) => LengthSize((uint)keyLength) + LengthSize((uint)valueLength) + (long)keyLength + valueLength;

    /// <summary>Writes one record at the start of <paramref name="destination"/>; returns the bytes written (<see cref="RecordLength"/>).</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        int n = WriteLength(destination, (uint)key.Length);
        n += WriteLength(destination[n..], (uint)value.Length);
        key.CopyTo(destination[n..]);
        value.CopyTo(destination[(n + key.Length)..]);
        return n + key.Length + value.Length;
    }

    /// <summary>
    /// Reads both lengths from the start of <paramref name="record"/> (the bytes left in the data
    /// section, or at least the first 10 of them). Returns the bytes they take, or 0 with
    /// <paramref name="error"/> saying why they are not readable.
    /// </summary>
    public static int ReadLengths(ReadOnlySpan<byte> record, out uint keyLength, out uint valueLength, out LengthError error)
    {
        valueLength = 0;
        int used = ReadLength(record, out keyLength, out error);
        if (used == 0)
        {
            return 0;
        }

        int more = ReadLength(record[used..], out valueLength, out error);
        return more == 0 ? 0 : used + more;
    }

    private static int WriteLength(Span<byte> destination, uint value)
    {
        int n = 0;
        while (value >= 0x80)
        {
            destination[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[n++] = (byte)value;
        return n;
    }

    private static int ReadLength(ReadOnlySpan<byte> bytes, out uint value, out LengthError error)
    {
        value = 0;
        ulong result = 0;
        int limit = Math.Min(bytes.Length, SnapshotLayout.MaxVarintLength);
        for (int i = 0; i < limit; i++)
        {
            byte b = bytes[i];
            result |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                if (result > int.MaxValue || (i > 0 && b == 0))
                {
                    error = LengthError.NotMinimal;
                    return 0;
                }

                value = (uint)result;
                error = LengthError.None;
                return i + 1;
            }
        }

        error = LengthError.Unterminated;
        return 0;
    }
}
