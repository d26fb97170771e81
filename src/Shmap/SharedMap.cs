using System.Buffers;
using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Shmap.Building;
using Shmap.Format;
using Shmap.Reading;
using Shmap.Store;

namespace Shmap;

/// <summary>
/// One immutable snapshot of a string map (the seed's <c>sharedmap</c>), opened from a shared name,
/// a file or bytes. Lookups are lock-free and allocation-free on the UTF-8 path; enumeration is in
/// ordinal UTF-8 key order. Thread-safe for reading; do not dispose it while other threads read.
/// </summary>
/// <remarks>
/// The bytes are never trusted: opening checks the header and the bounds of every section, and
/// every read checks the record it touches, so a corrupt snapshot raises
/// <see cref="SnapshotFormatException"/> instead of reading outside the mapping.
/// <see cref="Verify"/> checks all of it, checksum included.
/// </remarks>
public sealed class SharedMap : IReadOnlyDictionary<string, string>, IDisposable
{
    private readonly SharedName? _sharedName;
    private SnapshotReader? _reader;
    private ControlFile? _control;

    internal SharedMap(SnapshotReader reader, SharedName? name, string? path)
    {
        _reader = reader;
        _sharedName = name;
        Path = path;
        Count = reader.Count;
    }

    /// <summary>The shared name it was opened by, or null.</summary>
    public string? Name => _sharedName?.Name;

    /// <summary>
    /// False once a newer version of its name has been published (or the name deleted); true for
    /// maps not opened by name. Costs one read of a shared word after the first call.
    /// </summary>
    public bool IsLatest
    {
        get
        {
            _ = Reader;
            if (_sharedName is not SharedName name)
            {
                return true;
            }

            ControlFile? control = _control;
            if (control is null)
            {
                control = ControlFile.TryOpenForReading(name);
                if (control is null)
                {
                    return SnapshotFiles.Exists(name);
                }

                if (Interlocked.CompareExchange(ref _control, control, null) is { } raced)
                {
                    control.Dispose();
                    control = raced;
                }
            }

            return control.State != ControlFile.StateDeleted && control.Version <= Version;
        }
    }

    /// <summary>The file it maps, or null for <see cref="Load(byte[])"/>.</summary>
    public string? Path { get; }

    /// <summary>Number of entries.</summary>
    public int Count { get; }

    /// <summary>Version number stamped when this snapshot was published (1, 2, … per name); 0 for bytes never published.</summary>
    public long Version => Reader.Header.PublishVersion;

    /// <summary>When this snapshot was published, or null for bytes never published.</summary>
    public DateTimeOffset? PublishedAt => Reader.Header.PublishedAtUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(Reader.Header.PublishedAtUnixMs);

    /// <summary>Size of the snapshot in bytes.</summary>
    public long ByteLength => Reader.Header.FileLength;

    /// <summary>Keys in order.</summary>
    public IEnumerable<string> Keys => this.Select(static e => e.Key);

    /// <summary>Values in key order.</summary>
    public IEnumerable<string> Values => this.Select(static e => e.Value);

    /// <summary>The value of <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> when absent.</summary>
    public string this[string key] => Get(key) ?? throw new KeyNotFoundException($"The key '{key}' is not in the shared map.");

    /// <summary>The reader of a map that is never disposed while in use (a follower's versions); no check.</summary>
    internal SnapshotReader DangerousReader => _reader!;

    internal SharedName? Shared => _sharedName;

    internal SnapshotReader Reader
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            SnapshotReader? reader = _reader;
            if (reader is null)
            {
                ThrowDisposed();
            }

            return reader;
        }
    }

    /// <summary>Opens the map published under <paramref name="name"/>. O(1) in its size: maps the file and checks the header.</summary>
    /// <exception cref="SharedMapNotFoundException">Nothing is published under the name.</exception>
    /// <exception cref="SnapshotFormatException">The file is not a valid snapshot.</exception>
    /// <exception cref="ArgumentException">The name is not usable.</exception>
    public static SharedMap Open(string name, SharedMapOptions? options = null)
    {
        SharedName shared = SharedName.Create(name, options);
        string path = shared.SnapshotPath;
        try
        {
            return OpenByPath(shared);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SharedMapNotFoundException(name, path, e);
        }
    }

    /// <summary>Opens a snapshot file (for example one written by <see cref="SharedMapBuilder.WriteTo"/>), mapping it read-only.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="SnapshotFormatException">The file is not a valid snapshot.</exception>
    public static SharedMap OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new SharedMap(OpenReader(path), null, System.IO.Path.GetFullPath(path));
    }

    /// <summary>Reads snapshot bytes (what <see cref="SharedMapBuilder.Dump"/> returns) into a private copy.</summary>
    /// <exception cref="SnapshotFormatException">The bytes are not a valid snapshot.</exception>
    public static SharedMap Load(byte[] snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return Load(snapshot.AsSpan());
    }

    /// <summary>Reads snapshot bytes into a private copy.</summary>
    /// <exception cref="SnapshotFormatException">The bytes are not a valid snapshot.</exception>
    public static SharedMap Load(ReadOnlySpan<byte> snapshot) => new(new SnapshotReader(SnapshotMemory.Copy(snapshot)), null, null);

    /// <summary>
    /// Removes the map published under <paramref name="name"/> (the seed's static <c>remove</c>), from any process.
    /// Maps already open keep working; new opens fail until it is shared again.
    /// </summary>
    /// <returns>Whether there was a map to remove.</returns>
    public static bool Delete(string name, SharedMapOptions? options = null) => Publisher.Delete(SharedName.Create(name, options));

    /// <summary>
    /// Publishes a snapshot file (for example one written by <see cref="SharedMapBuilder.WriteTo"/>
    /// on another machine) under <paramref name="name"/> as its next version. The file is copied
    /// into a private temporary file first and the copy is checked with <see cref="Verify"/>
    /// before it is renamed into place, so what is published is what was verified, even if the
    /// source changes meanwhile. An invalid file changes nothing.
    /// </summary>
    /// <returns>The version published.</returns>
    /// <exception cref="SnapshotFormatException">The file is not a valid snapshot; the name is untouched.</exception>
    /// <exception cref="SharedMapExistsException">The name exists and <paramref name="force"/> is false.</exception>
    public static unsafe long Import(string name, string snapshotFile, bool force = false, SharedMapOptions? options = null)
    {
        SharedName shared = SharedName.Create(name, options);
        ArgumentException.ThrowIfNullOrEmpty(snapshotFile);
        using var source = new FileStream(snapshotFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        long length = source.Length;

        // Fail early (nothing locked, nothing written) when the header is already wrong.
        Span<byte> header = stackalloc byte[SnapshotLayout.HeaderSize];
        int headerBytes = RandomAccess.Read(source.SafeFileHandle, header, 0);
        _ = SnapshotHeader.Parse(header[..headerBytes], length);
        return Publisher.Publish(
            shared,
            shared.Options,
            force ? Publisher.Mode.NextVersion : Publisher.Mode.CreateNew,
            length,
            (destination, version, publishedAt) => CopyAndStamp(source, destination, length, version, publishedAt),
            static copy =>
            {
                using var reader = new SnapshotReader(SnapshotMemory.MapFile(copy));
                reader.Verify();
            });
    }

    /// <summary>Copies the source file into the temporary file's mapping by reads (never through a shared mapping of the source), then stamps it.</summary>
    private static unsafe void CopyAndStamp(FileStream source, byte* destination, long length, long version, long publishedAt)
    {
        long done = 0;
        while (done < length)
        {
            int chunk = (int)Math.Min(length - done, 1 << 30);
            int read = RandomAccess.Read(source.SafeFileHandle, new Span<byte>(destination + done, chunk), done);
            if (read == 0)
            {
                throw new SnapshotFormatException("file_length", SnapshotLayout.FileLengthOffset, $"{length} bytes", $"the source file shrank to {done} bytes while it was copied");
            }

            done += read;
        }

        SnapshotHeader.Stamp(new Span<byte>(destination, SnapshotLayout.HeaderSize), version, publishedAt);
    }

    /// <summary>
    /// Follows <paramref name="name"/>: the returned map answers every call from the newest
    /// published version, switching without locks when a new one appears.
    /// </summary>
    /// <exception cref="SharedMapNotFoundException">Nothing is published under the name.</exception>
    public static LiveSharedMap Follow(string name, SharedMapOptions? options = null) => new(SharedName.Create(name, options));

    /// <summary>Whether a map is published under <paramref name="name"/>.</summary>
    public static bool Exists(string name, SharedMapOptions? options = null) => SnapshotFiles.Exists(SharedName.Create(name, options));

    /// <summary>The value of <paramref name="key"/>, or null when it is absent.</summary>
    public string? Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Find(Reader, key);
    }

    /// <summary>Looks <paramref name="key"/> up.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        value = Find(Reader, key);
        return value is not null;
    }

    /// <summary>The string lookup: encode, find, decode; null when absent.</summary>
    internal static string? Find(SnapshotReader reader, string key)
    {
        string? value = Find(reader, key, out bool unreadable);
        return unreadable ? FindOrThrow(reader, key) : value;
    }

    /// <summary>
    /// The string lookup that never throws for the bytes it reads, shared with
    /// <see cref="LiveSharedMap"/>: <paramref name="unreadable"/> tells that a record on the way
    /// did not fit (<see cref="SnapshotReader.TryFind"/>).
    /// </summary>
    [SkipLocalsInit]
    internal static string? Find(SnapshotReader reader, string key, out bool unreadable)
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
                value = Utf8Text.Decode(bytes);
            }
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return value;
    }

    /// <summary>The lookup again, throwing the exception that says which record does not fit.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static string? FindOrThrow(SnapshotReader reader, string key) =>
        Utf8Text.TryEncode(key, out byte[]? utf8) && reader.TryGetValue(utf8, out ReadOnlySpan<byte> value) ? Utf8Text.Decode(value) : null;

    /// <summary>
    /// Looks a UTF-8 key up without copying or allocating: <paramref name="value"/> points into the
    /// snapshot and stays valid until this map is disposed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(ReadOnlySpan<byte> utf8Key, out ReadOnlySpan<byte> value) => Reader.TryGetValue(utf8Key, out value);

    /// <summary>
    /// Looks many keys up at once: <paramref name="values"/>[i] receives the value of
    /// <paramref name="keys"/>[i], or null. Several times faster per key than a loop of
    /// <see cref="Get"/> on large maps, because the memory misses of a batch overlap.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    /// <exception cref="ArgumentNullException">A key is null (the message names its index).</exception>
    public void GetMany(ReadOnlySpan<string> keys, Span<string?> values)
    {
        CheckBatch(keys.Length, values.Length);
        for (int i = 0; i < keys.Length; i++)
        {
            if (keys[i] is null)
            {
                throw new ArgumentNullException(nameof(keys), $"keys[{i}] is null.");
            }
        }

        SnapshotReader reader = Reader;
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

                reader.FindMany(utf8.AsSpan(0, n), found[..n]);
                for (int i = 0; i < n; i++)
                {
                    // The value's last line, when the record spills into it: all of the chunk's misses at once.
                    reader.PrefetchValueEnd(found[i]);
                }

                for (int i = 0; i < n; i++)
                {
                    values[start + i] = found[i].Found && !unencodable[i] ? Utf8Text.Decode(reader.ValueAt(found[i])) : null;
                }
            }
        }
        finally
        {
            utf8.AsSpan(0, Constants.StringBatchChunk).Clear();
            ArrayPool<ReadOnlyMemory<byte>>.Shared.Return(utf8);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Looks many UTF-8 keys up at once without allocating: <paramref name="values"/>[i] locates the
    /// value of <paramref name="utf8Keys"/>[i] in this map (<see cref="ValueRef.Found"/> false when
    /// absent); <see cref="GetValue(ValueRef)"/> gives its bytes.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public void GetMany(ReadOnlySpan<ReadOnlyMemory<byte>> utf8Keys, Span<ValueRef> values)
    {
        CheckBatch(utf8Keys.Length, values.Length);
        Reader.FindMany(utf8Keys, values);
    }

    /// <summary>The bytes of a value located by <see cref="GetMany(ReadOnlySpan{ReadOnlyMemory{byte}}, Span{ValueRef})"/>; valid until this map is disposed.</summary>
    /// <exception cref="ArgumentException">The reference was not found, or does not belong to this map.</exception>
    public ReadOnlySpan<byte> GetValue(ValueRef value)
    {
        if (!value.Found)
        {
            throw new ArgumentException("The reference is of a key that was not found; check ValueRef.Found first.", nameof(value));
        }

        return Reader.ValueAt(value);
    }

    /// <summary>Whether <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    /// <summary>Whether a UTF-8 key is present.</summary>
    public bool ContainsKey(ReadOnlySpan<byte> utf8Key) => Reader.TryGetValue(utf8Key, out _);

    /// <summary>The entry of rank <paramref name="index"/> in key order (0 is the smallest key).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not below <see cref="Count"/>.</exception>
    public KeyValuePair<string, string> GetAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return EntryAt(Reader, index);
    }

    /// <summary>The rank of <paramref name="key"/> in key order, or -1 when it is absent.</summary>
    [SkipLocalsInit]
    public int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        SnapshotReader reader = Reader;
        Span<byte> buffer = stackalloc byte[Constants.StackKeyChars * 3];
        int rank = -1;
        if (Utf8Text.TryEncodeKey(key, buffer, out ReadOnlySpan<byte> utf8, out byte[]? rented))
        {
            ulong offset = reader.FindRecord(utf8, reader.HashOf(utf8), out _);
            if (offset != 0)
            {
                rank = reader.RankOfOffset(offset);
            }
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return rank;
    }

    /// <summary>
    /// Entries with <paramref name="fromInclusive"/> ≤ key &lt; <paramref name="toExclusive"/> in key
    /// order; null leaves that end open. Keys compare by ordinal UTF-8 bytes.
    /// </summary>
    public IEnumerable<KeyValuePair<string, string>> Range(string? fromInclusive, string? toExclusive)
    {
        byte[]? from = fromInclusive is null ? null : Utf8Text.Encode(fromInclusive, nameof(fromInclusive));
        byte[]? to = toExclusive is null ? null : Utf8Text.Encode(toExclusive, nameof(toExclusive));
        _ = Reader;
        return RangeIterator(from, to);
    }

    /// <summary>Entries whose key starts with <paramref name="prefix"/>, in key order.</summary>
    public IEnumerable<KeyValuePair<string, string>> StartsWith(string prefix)
    {
        byte[] utf8 = Utf8Text.Encode(prefix, nameof(prefix));
        _ = Reader;
        return PrefixIterator(utf8);
    }

    /// <summary>Entries in ordinal UTF-8 key order.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => RangeIterator(null, null).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Checks the whole snapshot: the body checksum, every record and index entry, the order of the
    /// keys, UTF-8 validity and every hash slot. O(n log n); opening only checks the header.
    /// </summary>
    /// <exception cref="SnapshotFormatException">Something does not check out; the exception names it.</exception>
    public void Verify() => Reader.Verify();

    /// <summary>Writes the snapshot's bytes (header included) to <paramref name="destination"/>.</summary>
    public void WriteTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Reader.CopyTo(destination);
    }

    /// <summary>Unmaps the snapshot (once no follower or snapshot shares it). Spans obtained from it become invalid.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _reader, null)?.Release();
        Interlocked.Exchange(ref _control, null)?.Dispose();
    }

    /// <summary>Another map over the same bytes, with its own lifetime, or null when they are already released.</summary>
    internal SharedMap? TryShare()
    {
        SnapshotReader? reader = _reader;
        return reader is not null && reader.TryAddReference() ? new SharedMap(reader, _sharedName, Path) : null;
    }

    internal static SharedMap OpenByPath(SharedName name, VersionRanges? ranges = null)
    {
        FileStream file = SnapshotFiles.OpenSnapshot(name);
        return new(new SnapshotReader(ranges is null ? SnapshotMemory.MapFile(file) : ranges.Map(file)), name, name.SnapshotPath);
    }

    private static SnapshotReader OpenReader(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        return new SnapshotReader(SnapshotMemory.MapFile(file));
    }

    private static KeyValuePair<string, string> EntryAt(SnapshotReader reader, int index)
    {
        reader.ReadAt(index, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
        return new(Utf8Text.Decode(key), Utf8Text.Decode(value));
    }

    private IEnumerable<KeyValuePair<string, string>> RangeIterator(byte[]? from, byte[]? to)
    {
        int start = from is null ? 0 : Reader.LowerBound(from);
        int end = to is null ? Count : Reader.LowerBound(to);
        for (int i = start; i < end; i++)
        {
            yield return EntryAt(Reader, i);
        }
    }

    private IEnumerable<KeyValuePair<string, string>> PrefixIterator(byte[] prefix)
    {
        for (int i = Reader.LowerBound(prefix); i < Count && Reader.KeyAt(i).StartsWith(prefix); i++)
        {
            yield return EntryAt(Reader, i);
        }
    }

    private static void CheckBatch(int keys, int values)
    {
        if (keys != values)
        {
            throw new ArgumentException($"values has {values} elements but keys has {keys}; they must be the same length.", nameof(values));
        }
    }

    [DoesNotReturn]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(SharedMap));
}
