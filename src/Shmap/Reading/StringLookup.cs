using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Shmap.Format;

namespace Shmap.Reading;

/// <summary>
/// The string API over one snapshot, shared by both façades (a map, and a follower's served
/// version): encode the key, find it, decode. A key with a lone surrogate can never be stored, so
/// it is answered "absent".
/// </summary>
internal static class StringLookup
{
    /// <summary>The value of <paramref name="key"/>, or null when it is absent.</summary>
    public static string? Find(SnapshotReader reader, ReadOnlySpan<char> key)
    {
        string? value = Find(reader, key, out bool unreadable);
        return unreadable ? FindOrThrow(reader, key) : value;
    }

    /// <summary>
    /// The string lookup that never throws for the bytes it reads: <paramref name="unreadable"/>
    /// tells that a record on the way did not fit (<see cref="SnapshotReader.TryFind"/>).
    /// </summary>
    /// <remarks>
    /// <para>The common key (ASCII, at most 32 chars) is encoded with one store into the stack
    /// and looked up here; any other key goes through <see cref="FindOther"/>, so this frame stays
    /// small and its variables in registers.</para>
    /// <para>The stack buffer has the size of <see cref="ContainsKey"/>'s, not the 32 bytes the
    /// store needs: with 32 bytes, a miss measured 1.06–1.15x Dictionary's where
    /// <see cref="ContainsKey"/>, the same encoding and hash, measured about half that (AMD Zen 4;
    /// the frame's layout is the only difference found). With this size a miss costs what
    /// <see cref="ContainsKey"/>'s does; hits measured the same within the noise.</para>
    /// </remarks>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static string? Find(SnapshotReader reader, ReadOnlySpan<char> key, out bool unreadable)
    {
        Span<byte> buffer = stackalloc byte[Constants.StackKeyChars * 3];
        int length = ShortAscii.TryEncode(key, buffer);
        if (length < 0)
        {
            return FindOther(reader, key, out unreadable);
        }

        ulong offset = reader.TryFind(buffer[..length], out ReadOnlySpan<byte> bytes);
        unreadable = offset == SnapshotReader.Unreadable;
        string? value = offset - 1 < SnapshotReader.Unreadable - 1 ? ValueDecoder.Decode(bytes) : null;
        GC.KeepAlive(reader);
        return value;
    }

    /// <summary><see cref="Find(SnapshotReader, ReadOnlySpan{char}, out bool)"/> for keys that are not short ASCII.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string? FindOther(SnapshotReader reader, ReadOnlySpan<char> key, out bool unreadable)
    {
        Span<byte> buffer = stackalloc byte[Constants.StackKeyChars * 3];
        string? value = null;
        unreadable = false;
        if (Utf8Text.TryEncodeKey(key, buffer, out ReadOnlySpan<byte> utf8, out byte[]? rented))
        {
            ulong offset = reader.TryFind(utf8, out ReadOnlySpan<byte> bytes);
            unreadable = offset == SnapshotReader.Unreadable;
            if (offset != 0 && !unreadable)
            {
                value = ValueDecoder.Decode(bytes);
            }
        }

        GC.KeepAlive(reader);

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return value;
    }

    /// <summary>The lookup again, throwing the exception that says which record does not fit.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static string? FindOrThrow(SnapshotReader reader, ReadOnlySpan<char> key)
    {
        string? found = Utf8Text.TryEncode(key, out byte[]? utf8) && reader.TryGetValue(utf8, out ReadOnlySpan<byte> value) ? Utf8Text.Decode(value) : null;
        GC.KeepAlive(reader);
        return found;
    }

    /// <summary>
    /// Copies the value of <paramref name="key"/> into <paramref name="destination"/> (decoded as
    /// <see cref="Find(SnapshotReader, ReadOnlySpan{char})"/> would return it): the chars written,
    /// -1 when the key is absent, or -2 - (the length needed) when they do not fit; never throws
    /// for the bytes it reads (<paramref name="unreadable"/>, as <see cref="Find(SnapshotReader, ReadOnlySpan{char}, out bool)"/>).
    /// </summary>
    [SkipLocalsInit]
    public static int Copy(SnapshotReader reader, ReadOnlySpan<char> key, Span<char> destination, out bool unreadable)
    {
        Span<byte> buffer = stackalloc byte[Constants.StackKeyChars * 3];
        int result = -1;
        unreadable = false;
        if (Utf8Text.TryEncodeKey(key, buffer, out ReadOnlySpan<byte> utf8, out byte[]? rented))
        {
            ulong offset = reader.TryFind(utf8, out ReadOnlySpan<byte> bytes);
            unreadable = offset == SnapshotReader.Unreadable;
            if (offset != 0 && !unreadable)
            {
                result = Utf8Text.DecodeInto(bytes, destination);
                if (result < 0)
                {
                    result = -2 - Encoding.UTF8.GetCharCount(bytes);
                }
            }
        }

        GC.KeepAlive(reader);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return result;
    }

    /// <summary>The result of <see cref="Copy"/> as the public API gives it: found or not, or an exception naming both lengths.</summary>
    public static bool CopyResult(int result, int destinationLength, string paramName, out int charsWritten)
    {
        if (result <= -2)
        {
            throw new ArgumentException($"The destination has {destinationLength} chars; the value needs {-2 - result}.", paramName);
        }

        charsWritten = Math.Max(result, 0);
        return result >= 0;
    }

    /// <summary>Whether <paramref name="key"/> is present: a hash lookup; the value is not decoded.</summary>
    [SkipLocalsInit]
    public static bool ContainsKey(SnapshotReader reader, ReadOnlySpan<char> key)
    {
        Span<byte> buffer = stackalloc byte[Constants.StackKeyChars * 3];
        bool found = false;
        if (Utf8Text.TryEncodeKey(key, buffer, out ReadOnlySpan<byte> utf8, out byte[]? rented))
        {
            found = reader.TryGetValue(utf8, out _);
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return found;
    }

    /// <summary>The rank of <paramref name="key"/> in key order, or -1 when it is absent.</summary>
    [SkipLocalsInit]
    public static int IndexOf(SnapshotReader reader, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> buffer = stackalloc byte[Constants.StackKeyChars * 3];
        int rank = -1;
        if (Utf8Text.TryEncodeKey(key, buffer, out ReadOnlySpan<byte> utf8, out byte[]? rented))
        {
            ulong offset = reader.FindRecord(utf8, reader.HashOf(utf8), out _);
            if (offset != 0)
            {
                rank = RankQueries.RankOfOffset(reader, offset);
            }
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return rank;
    }

    /// <summary>The entry of rank <paramref name="index"/>; throws when it is not a rank.</summary>
    public static KeyValuePair<string, string> GetAt(SnapshotReader reader, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, reader.Count);
        return EntryAt(reader, index);
    }

    /// <summary>The entry of rank <paramref name="index"/> (checked by the caller), decoded.</summary>
    public static KeyValuePair<string, string> EntryAt(SnapshotReader reader, int index)
    {
        RankQueries.ReadAt(reader, index, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
        KeyValuePair<string, string> entry = new(Utf8Text.Decode(key), Utf8Text.Decode(value));
        GC.KeepAlive(reader);
        return entry;
    }

    /// <summary>The key of rank <paramref name="index"/> (checked by the caller), decoded; the value is not.</summary>
    public static string KeyAt(SnapshotReader reader, int index)
    {
        string key = Utf8Text.Decode(RankQueries.KeyAt(reader, index));
        GC.KeepAlive(reader);
        return key;
    }

    /// <summary>The value of rank <paramref name="index"/> (checked by the caller), decoded; the key is not.</summary>
    public static string ValueAt(SnapshotReader reader, int index)
    {
        string value = Utf8Text.Decode(RankQueries.ValueAt(reader, index));
        GC.KeepAlive(reader);
        return value;
    }

    /// <summary>Throws unless a batch has one value slot per key.</summary>
    public static void CheckBatch(int keys, int values)
    {
        if (keys != values)
        {
            throw new ArgumentException($"values has {values} elements but keys has {keys}; they must be the same length.", nameof(values));
        }
    }

    /// <summary>Throws unless a string batch has one value slot per key and no null key (the message names its index).</summary>
    public static void CheckMany(ReadOnlySpan<string> keys, Span<string?> values)
    {
        CheckBatch(keys.Length, values.Length);
        for (int i = 0; i < keys.Length; i++)
        {
            if (keys[i] is null)
            {
                throw new ArgumentNullException(nameof(keys), $"keys[{i}] is null.");
            }
        }
    }

    /// <summary>
    /// Looks many string keys up at once: <paramref name="values"/>[i] receives the value of
    /// <paramref name="keys"/>[i], or null. Chunks of <see cref="Constants.StringBatchChunk"/> keys
    /// are encoded, looked up together (<see cref="BatchLookup"/>), then decoded.
    /// </summary>
    /// <remarks>The caller checked the arguments (<see cref="CheckMany"/>).</remarks>
    public static void GetMany(SnapshotReader reader, ReadOnlySpan<string> keys, Span<string?> values)
    {
        ReadOnlyMemory<byte>[] utf8 = ArrayPool<ReadOnlyMemory<byte>>.Shared.Rent(Constants.StringBatchChunk);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
        Span<ValueRef> found = stackalloc ValueRef[Constants.StringBatchChunk];
        Span<bool> unencodable = stackalloc bool[Constants.StringBatchChunk];
        try
        {
            for (int start = 0; start < keys.Length; start += Constants.StringBatchChunk)
            {
                int n = Math.Min(Constants.StringBatchChunk, keys.Length - start);
                ReadOnlySpan<string> chunk = keys.Slice(start, n);
                int needed = ShortAscii.EncodeBufferBytes; // the fast path's store may run past the last key
                foreach (string key in chunk)
                {
                    needed += key.Length * 3;
                }

                if (needed > buffer.Length)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(needed);
                }

                int used = 0;
                for (int i = 0; i < n; i++)
                {
                    // A key with a lone surrogate is never stored: it is looked up as "" and answered null.
                    int written = ShortAscii.TryEncode(chunk[i], buffer.AsSpan(used));
                    unencodable[i] = written < 0 && System.Text.Unicode.Utf8.FromUtf16(chunk[i], buffer.AsSpan(used), out _, out written, replaceInvalidSequences: false) != OperationStatus.Done;
                    utf8[i] = unencodable[i] ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(used, written);
                    used += unencodable[i] ? 0 : written;
                }

                BatchLookup.FindMany(reader, utf8.AsSpan(0, n), found[..n]);
                for (int i = 0; i < n; i++)
                {
                    // The value's last line, when the record spills into it: all of the chunk's misses at once.
                    reader.PrefetchValueEnd(found[i]);
                }

                for (int i = 0; i < n; i++)
                {
                    values[start + i] = found[i].Found && !unencodable[i] ? ValueDecoder.Decode(reader.ValueAt(found[i])) : null;
                }
            }
        }
        finally
        {
            utf8.AsSpan(0, Constants.StringBatchChunk).Clear();
            ArrayPool<ReadOnlyMemory<byte>>.Shared.Return(utf8);
            ArrayPool<byte>.Shared.Return(buffer);
            GC.KeepAlive(reader);
        }
    }
}
