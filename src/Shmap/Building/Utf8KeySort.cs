using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Shmap.Platform;

namespace Shmap.Building;

/// <summary>
/// Orders distinct byte keys by ordinal (unsigned byte) order without comparing keys one to one:
/// each key's next 8 bytes are read once into a big-endian number, and those numbers are sorted
/// (most-significant-digit radix on 8-byte digits). Keys that share a digit are told apart by the
/// next one; a key that ends inside the shared digit is a prefix of the others there, so it comes
/// first (shorter first). Each level reads every key it sorts once, in a pass that prefetches ahead,
/// instead of the ~log2(n) scattered reads per key of a comparison sort or a tree walk.
/// </summary>
internal static class Utf8KeySort
{
    private const int Digit = sizeof(ulong);
    private const int PrefetchDistance = 8;

    /// <summary>Positions 0..<paramref name="count"/>-1 of <paramref name="keys"/>, ordered by key. The keys must be distinct.</summary>
    public static int[] Order(byte[][] keys, int count)
    {
        var items = new int[count];
        for (int i = 0; i < count; i++)
        {
            items[i] = i;
        }

        var digits = new ulong[count];
        SortRange(keys, items, digits, 0, count, 0);
        return items;
    }

    /// <summary>Sorts items[lo..hi), whose keys all share their first <paramref name="offset"/> bytes.</summary>
    private static void SortRange(byte[][] keys, int[] items, ulong[] digits, int lo, int hi, int offset)
    {
        while (hi - lo > 1)
        {
            for (int i = lo; i < hi; i++)
            {
                if (i + PrefetchDistance < hi)
                {
                    MemoryHint.Prefetch(keys[items[i + PrefetchDistance]], offset);
                }

                digits[i] = DigitAt(keys[items[i]], offset);
            }

            Array.Sort(digits, items, lo, hi - lo);

            // Runs of one digit: the keys that end inside it first (by length), then the longer
            // ones, ordered by their next digit. The longest run is left for the loop (no deep recursion on it).
            int longestLo = lo;
            int longestHi = lo;
            for (int i = lo; i < hi;)
            {
                int j = i + 1;
                while (j < hi && digits[j] == digits[i])
                {
                    j++;
                }

                if (j - i > 1)
                {
                    int continuing = EndingFirst(keys, items, i, j, offset);
                    if (j - continuing > longestHi - longestLo)
                    {
                        if (longestHi - longestLo > 1)
                        {
                            SortRange(keys, items, digits, longestLo, longestHi, offset + Digit);
                        }

                        (longestLo, longestHi) = (continuing, j);
                    }
                    else if (j - continuing > 1)
                    {
                        SortRange(keys, items, digits, continuing, j, offset + Digit);
                    }
                }

                i = j;
            }

            (lo, hi, offset) = (longestLo, longestHi, offset + Digit);
        }
    }

    /// <summary>
    /// Reorders items[lo..hi) (one digit at <paramref name="offset"/>) so that the keys ending
    /// within that digit come first, shortest first, and returns where the longer keys start.
    /// </summary>
    private static int EndingFirst(byte[][] keys, int[] items, int lo, int hi, int offset)
    {
        int end = offset + Digit;
        int write = lo;
        for (int i = lo; i < hi; i++)
        {
            if (keys[items[i]].Length <= end)
            {
                (items[write], items[i]) = (items[i], items[write]);
                write++;
            }
        }

        // At most 9 keys end here (lengths offset..offset+8, distinct since equal digits and equal
        // lengths would be equal keys): an insertion sort by length.
        for (int a = lo + 1; a < write; a++)
        {
            int item = items[a];
            int length = keys[item].Length;
            int b = a - 1;
            while (b >= lo && keys[items[b]].Length > length)
            {
                items[b + 1] = items[b];
                b--;
            }

            items[b + 1] = item;
        }

        // The longer keys keep their relative order: the swaps above only moved ending keys forward
        // past them, so re-sort is left to the next digit.
        return write;
    }

    /// <summary>Bytes offset..offset+7 of <paramref name="key"/> as a big-endian number, zero past the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong DigitAt(byte[] key, int offset)
    {
        int left = key.Length - offset;
        if (left >= Digit)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(key.AsSpan(offset, Digit));
        }

        ulong digit = 0;
        for (int k = 0; k < left; k++)
        {
            digit |= (ulong)key[offset + k] << (56 - (8 * k));
        }

        return digit;
    }
}
