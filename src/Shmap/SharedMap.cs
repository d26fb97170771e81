using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
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

    /// <summary>
    /// The format version of the snapshot's bytes (docs/FORMAT.md, header offset 8). A snapshot opens
    /// only in the version this library reads, so this is that version.
    /// </summary>
    public int FormatVersion
    {
        get
        {
            _ = Reader;
            return SnapshotLayout.FormatVersion;
        }
    }

    /// <summary>When this snapshot was published, or null for bytes never published.</summary>
    public DateTimeOffset? PublishedAt => Reader.Header.PublishedAtUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(Reader.Header.PublishedAtUnixMs);

    /// <summary>Size of the snapshot in bytes.</summary>
    public long ByteLength => Reader.Header.FileLength;

    /// <summary>
    /// The snapshot's body checksum as its header states it (docs/FORMAT.md, header offset 112):
    /// equal for the same entries whoever built them, whatever version they were published as.
    /// Read from the header only; <see cref="Verify"/> checks that the body matches it.
    /// </summary>
    public ulong BodyChecksum => Reader.Header.BodyChecksum;

    /// <summary>Keys in order (values are not decoded).</summary>
    public IEnumerable<string> Keys => RankIterator(static (reader, i) => StringLookup.KeyAt(reader, i));

    /// <summary>Values in key order (keys are not decoded).</summary>
    public IEnumerable<string> Values => RankIterator(static (reader, i) => StringLookup.ValueAt(reader, i));

    /// <summary>The value of <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> when absent.</summary>
    public string this[string key] => Get(key) ?? throw new KeyNotFoundException($"The key '{key}' is not in the shared map.");

    /// <summary>The reader of a map that is never disposed while in use (a follower's versions); no check.</summary>
    internal SnapshotReader DangerousReader => _reader!;

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
            return new SharedMap(SnapshotReader.Open(SnapshotFiles.OpenSnapshot(shared)), shared, path);
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
        return new SharedMap(SnapshotReader.Open(path), null, System.IO.Path.GetFullPath(path));
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
    public static SharedMap Load(ReadOnlySpan<byte> snapshot) => new(SnapshotReader.Load(snapshot), null, null);

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
    public static long Import(string name, string snapshotFile, bool force = false, SharedMapOptions? options = null)
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
            SnapshotCopy.FromFile(source, length),
            SnapshotVerifier.VerifyFile);
    }

    /// <summary>
    /// Follows <paramref name="name"/>: the returned map answers every call from the newest
    /// published version, switching without locks when a new one appears.
    /// </summary>
    /// <exception cref="SharedMapNotFoundException">Nothing is published under the name.</exception>
    public static LiveSharedMap Follow(string name, SharedMapOptions? options = null) => new(name, options);

    /// <summary>
    /// Every name published in the directory of <paramref name="options"/> (ordinal order), with its
    /// files and what its snapshot's header says. A snapshot that cannot be opened is listed with
    /// <see cref="SharedMapInfo.Problem"/> set; a name deleted while listing is left out. Only headers
    /// are read (O(1) per name); files whose names start with '.' are temporary and left out.
    /// </summary>
    public static IReadOnlyList<SharedMapInfo> List(SharedMapOptions? options = null)
    {
        var infos = new List<SharedMapInfo>();
        foreach (NameListing.Entry entry in NameListing.List(options))
        {
            SharedName name = entry.Name;
            try
            {
                using SharedMap map = new(SnapshotReader.Open(SnapshotFiles.OpenSnapshot(name)), name, name.SnapshotPath);
                infos.Add(new SharedMapInfo(name.Name, name.SnapshotPath, name.ControlPath, map.Version, map.Count, map.ByteLength, map.PublishedAt, entry.LastModified, null));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Deleted while we looked.
            }
            catch (Exception e) when (e is ShmapException or IOException or UnauthorizedAccessException)
            {
                infos.Add(new SharedMapInfo(name.Name, name.SnapshotPath, name.ControlPath, 0, 0, entry.Length, null, entry.LastModified, e.Message));
            }
        }

        return infos;
    }

    /// <summary>The file the snapshot of <paramref name="name"/> is (or would be) published as: <c>N.shmap</c> in the directory.</summary>
    /// <exception cref="ArgumentException">The name is not usable.</exception>
    public static string SnapshotPathOf(string name, SharedMapOptions? options = null) => SharedName.Create(name, options).SnapshotPath;

    /// <summary>The control file of <paramref name="name"/> (<c>N.lock</c>: the version word followers map; publishers lock <c>N.wlock</c>).</summary>
    /// <exception cref="ArgumentException">The name is not usable.</exception>
    public static string ControlPathOf(string name, SharedMapOptions? options = null) => SharedName.Create(name, options).ControlPath;

    /// <summary>Whether a map is published under <paramref name="name"/>.</summary>
    public static bool Exists(string name, SharedMapOptions? options = null) => SnapshotFiles.Exists(SharedName.Create(name, options));

    /// <summary>The value of <paramref name="key"/>, or null when it is absent.</summary>
    public string? Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return StringLookup.Find(Reader, key);
    }

    /// <summary>Looks <paramref name="key"/> up.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        value = StringLookup.Find(Reader, key);
        return value is not null;
    }

    /// <summary>
    /// The value of <paramref name="key"/>, or null: a key cut out of a larger buffer (a request,
    /// a file) needs no string of its own. The answers are those of <see cref="Get(string)"/> for
    /// the same chars, as with <see cref="Dictionary{TKey, TValue}.GetAlternateLookup{TAlternateKey}"/>.
    /// </summary>
    public string? Get(ReadOnlySpan<char> key) => StringLookup.Find(Reader, key);

    /// <summary>Looks <paramref name="key"/> up (see <see cref="Get(ReadOnlySpan{char})"/>).</summary>
    public bool TryGetValue(ReadOnlySpan<char> key, [MaybeNullWhen(false)] out string value)
    {
        value = StringLookup.Find(Reader, key);
        return value is not null;
    }

    /// <summary>The value of <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> when absent.</summary>
    public string this[ReadOnlySpan<char> key] => StringLookup.Find(Reader, key) ?? throw new KeyNotFoundException($"The key '{key}' is not in the shared map.");

    /// <summary>
    /// Copies the value of <paramref name="key"/> into <paramref name="destination"/> without
    /// allocating (decoded as <see cref="Get(string)"/> returns it); false (and 0 chars) when the
    /// key is absent.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the value (the message gives the length needed).</exception>
    /// <exception cref="SnapshotFormatException">A record on the way does not fit the snapshot.</exception>
    public bool TryCopyValue(ReadOnlySpan<char> key, Span<char> destination, out int charsWritten)
    {
        SnapshotReader reader = Reader;
        int result = StringLookup.Copy(reader, key, destination, out bool unreadable);
        if (unreadable)
        {
            _ = StringLookup.FindOrThrow(reader, key);
        }

        return StringLookup.CopyResult(result, destination.Length, nameof(destination), out charsWritten);
    }

    /// <summary>
    /// Looks a UTF-8 key up without copying or allocating: <paramref name="value"/> points into the
    /// snapshot and stays valid until this map is disposed (keep the map reachable while reading
    /// the span: a map dropped without Dispose is unmapped once the garbage collector finds it unreachable).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(ReadOnlySpan<byte> utf8Key, out ReadOnlySpan<byte> value) => Reader.TryGetValue(utf8Key, out value);

    /// <summary>
    /// Looks many keys up at once: <paramref name="values"/>[i] receives the value of
    /// <paramref name="keys"/>[i], or null. Several times faster per key than a loop of
    /// <see cref="Get(string)"/> on large maps, because the memory misses of a batch overlap.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    /// <exception cref="ArgumentNullException">A key is null (the message names its index).</exception>
    public void GetMany(ReadOnlySpan<string> keys, Span<string?> values)
    {
        StringLookup.CheckMany(keys, values);
        StringLookup.GetMany(Reader, keys, values);
    }

    /// <summary>
    /// Looks many UTF-8 keys up at once without allocating: <paramref name="values"/>[i] locates the
    /// value of <paramref name="utf8Keys"/>[i] in this map (<see cref="ValueRef.Found"/> false when
    /// absent); <see cref="GetValue(ValueRef)"/> gives its bytes.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public void GetMany(ReadOnlySpan<ReadOnlyMemory<byte>> utf8Keys, Span<ValueRef> values)
    {
        StringLookup.CheckBatch(utf8Keys.Length, values.Length);
        BatchLookup.FindMany(Reader, utf8Keys, values);
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
    /// <remarks>A hash lookup, like <see cref="Get(string)"/>; the value is not decoded.</remarks>
    public bool ContainsKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return StringLookup.ContainsKey(Reader, key);
    }

    /// <summary>Whether a UTF-8 key is present.</summary>
    public bool ContainsKey(ReadOnlySpan<byte> utf8Key) => Reader.TryGetValue(utf8Key, out _);

    /// <summary>Whether <paramref name="key"/> is present (see <see cref="Get(ReadOnlySpan{char})"/>); the value is not decoded.</summary>
    public bool ContainsKey(ReadOnlySpan<char> key) => StringLookup.ContainsKey(Reader, key);

    /// <summary>The entry of rank <paramref name="index"/> in key order (0 is the smallest key).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not below <see cref="Count"/>.</exception>
    public KeyValuePair<string, string> GetAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return StringLookup.EntryAt(Reader, index);
    }

    /// <summary>The rank of <paramref name="key"/> in key order, or -1 when it is absent.</summary>
    public int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return StringLookup.IndexOf(Reader, key);
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
    public void Verify() => SnapshotVerifier.Verify(Reader);

    /// <summary>Writes the snapshot's bytes (header included) to <paramref name="destination"/>.</summary>
    public void WriteTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        SnapshotCopy.CopyTo(Reader, destination);
    }

    /// <summary>Unmaps the snapshot (once no follower or snapshot shares it). Spans obtained from it become invalid.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _reader, null)?.Release();
        Interlocked.Exchange(ref _control, null)?.Dispose();
    }

    private IEnumerable<KeyValuePair<string, string>> RangeIterator(byte[]? from, byte[]? to)
    {
        int start = from is null ? 0 : RankQueries.LowerBound(Reader, from);
        int end = to is null ? Count : RankQueries.LowerBound(Reader, to);
        for (int i = start; i < end; i++)
        {
            yield return StringLookup.EntryAt(Reader, i);
        }
    }

    private IEnumerable<KeyValuePair<string, string>> PrefixIterator(byte[] prefix)
    {
        for (int i = RankQueries.LowerBound(Reader, prefix); i < Count && RankQueries.KeyAt(Reader, i).StartsWith(prefix); i++)
        {
            yield return StringLookup.EntryAt(Reader, i);
        }
    }

    private IEnumerable<string> RankIterator(Func<SnapshotReader, int, string> select)
    {
        for (int i = 0; i < Count; i++)
        {
            yield return select(Reader, i);
        }
    }

    [DoesNotReturn]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(SharedMap));
}
