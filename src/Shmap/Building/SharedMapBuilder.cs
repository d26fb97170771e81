using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Shmap.Building;
using Shmap.Format;

namespace Shmap;

/// <summary>
/// A mutable string map (the seed's <c>rbtree</c>) that writes immutable snapshots: to a shared
/// name (<see cref="Share"/>, <see cref="Publish"/>), to bytes (<see cref="Dump"/>) or to a stream
/// (<see cref="WriteTo"/>). Keys are ordered by ordinal UTF-8 bytes. Not thread-safe.
/// </summary>
public sealed class SharedMapBuilder : IEnumerable<KeyValuePair<string, string>>
{
    private readonly SortedDictionary<byte[], byte[]> _entries = new(Utf8OrdinalComparer.Instance);
    private long _dataLength;

    /// <summary>Number of entries.</summary>
    public int Count => _entries.Count;

    /// <summary>Gets or sets the value of <paramref name="key"/>; getting a missing key throws <see cref="KeyNotFoundException"/>.</summary>
    public string this[string key]
    {
        get => Get(key) ?? throw new KeyNotFoundException($"The key '{key}' is not in the builder.");
        set => Set(key, value);
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>; the last set wins.</summary>
    /// <exception cref="ArgumentNullException">A string is null.</exception>
    /// <exception cref="ArgumentException">A string has an unpaired surrogate and cannot round-trip through UTF-8.</exception>
    public void Set(string key, string value) => SetCore(Utf8Text.Encode(key, nameof(key)), Utf8Text.Encode(value, nameof(value)));

    /// <summary>Sets a key to a value given as UTF-8 bytes; the last set wins.</summary>
    /// <exception cref="ArgumentException">The bytes are not valid UTF-8.</exception>
    public void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => SetCore(Utf8Text.Validate(key, nameof(key)), Utf8Text.Validate(value, nameof(value)));

    /// <summary>The value of <paramref name="key"/>, or null when it is absent.</summary>
    public string? Get(string key) => TryGetValue(key, out string? value) ? value : null;

    /// <summary>Looks <paramref name="key"/> up.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Utf8Text.TryEncode(key, out byte[]? utf8) && _entries.TryGetValue(utf8, out byte[]? bytes))
        {
            value = Utf8Text.Decode(bytes);
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>Whether <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Utf8Text.TryEncode(key, out byte[]? utf8) && _entries.ContainsKey(utf8);
    }

    /// <summary>Removes <paramref name="key"/>; returns whether it was present.</summary>
    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Utf8Text.TryEncode(key, out byte[]? utf8) && _entries.Remove(utf8, out byte[]? old))
        {
            _dataLength -= SnapshotWriter.RecordLength(utf8.Length, old.Length);
            return true;
        }

        return false;
    }

    /// <summary>Removes every entry.</summary>
    public void Clear()
    {
        _entries.Clear();
        _dataLength = 0;
    }

    /// <summary>
    /// Publishes a snapshot of the current entries under <paramref name="name"/>. Atomic: readers
    /// see the old snapshot or the new one, never a part. Readers that have the old one open keep it.
    /// </summary>
    /// <param name="name">The shared name (a file name: no '/', NUL or control characters, at most 200 UTF-8 bytes).</param>
    /// <param name="force">Replace an existing map of that name (as its next version) instead of throwing.</param>
    /// <param name="options">Directory and permissions; null for <see cref="SharedMapOptions.Default"/>.</param>
    /// <exception cref="SharedMapExistsException">The name exists and <paramref name="force"/> is false; nothing was changed.</exception>
    /// <exception cref="ArgumentException">The name is not usable.</exception>
    public void Share(string name, bool force = false, SharedMapOptions? options = null) =>
        PublishCore(name, options, force ? Publisher.Mode.NextVersion : Publisher.Mode.CreateNew);

    /// <summary>Publishes a snapshot of the current entries as the next version of <paramref name="name"/>, creating it if needed.</summary>
    /// <returns>The version number published: 1 for a new name, then +1 each publish.</returns>
    public long Publish(string name, SharedMapOptions? options = null) => PublishCore(name, options, Publisher.Mode.NextVersion);

    /// <summary>The snapshot as bytes: exactly what <see cref="Share"/> writes, with version and time 0. <see cref="SharedMap.Load(byte[])"/> reads it back.</summary>
    /// <exception cref="InvalidOperationException">The snapshot is too large for one array; use <see cref="WriteTo"/>.</exception>
    public unsafe byte[] Dump()
    {
        SnapshotWriter writer = Plan();
        if (writer.FileLength > Array.MaxLength)
        {
            throw new InvalidOperationException($"The snapshot is {writer.FileLength} bytes, more than one array holds; use WriteTo(Stream) instead.");
        }

        byte[] bytes = GC.AllocateUninitializedArray<byte>((int)writer.FileLength);
        fixed (byte* destination = bytes)
        {
            writer.Write(destination);
        }

        return bytes;
    }

    /// <summary>Writes the snapshot (the bytes <see cref="Dump"/> returns) to <paramref name="destination"/>; works for snapshots of any size.</summary>
    public unsafe void WriteTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        SnapshotWriter writer = Plan();
        byte* buffer = (byte*)NativeMemory.Alloc((nuint)writer.FileLength);
        try
        {
            writer.Write(buffer);
            for (long done = 0; done < writer.FileLength;)
            {
                int chunk = (int)Math.Min(1 << 20, writer.FileLength - done);
                destination.Write(new ReadOnlySpan<byte>(buffer + done, chunk));
                done += chunk;
            }
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>Entries in ordinal UTF-8 key order.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        foreach (KeyValuePair<byte[], byte[]> entry in _entries)
        {
            yield return new(Utf8Text.Decode(entry.Key), Utf8Text.Decode(entry.Value));
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private unsafe long PublishCore(string name, SharedMapOptions? options, Publisher.Mode mode)
    {
        SharedName shared = SharedName.Create(name, options);
        SnapshotWriter writer = Plan();
        return Publisher.Publish(shared, options ?? SharedMapOptions.Default, mode, writer.FileLength, writer.Write);
    }

    private void SetCore(byte[] key, byte[] value)
    {
        if (_entries.TryGetValue(key, out byte[]? old))
        {
            _dataLength -= SnapshotWriter.RecordLength(key.Length, old.Length);
        }
        else if (_entries.Count == SnapshotLayout.MaxCount)
        {
            throw new InvalidOperationException($"A snapshot holds at most {SnapshotLayout.MaxCount} entries.");
        }

        _entries[key] = value;
        _dataLength += SnapshotWriter.RecordLength(key.Length, value.Length);
    }

    private SnapshotWriter Plan()
    {
        var keys = new byte[_entries.Count][];
        var values = new byte[_entries.Count][];
        int i = 0;
        foreach (KeyValuePair<byte[], byte[]> entry in _entries)
        {
            keys[i] = entry.Key;
            values[i] = entry.Value;
            i++;
        }

        return SnapshotWriter.Plan(keys, values, _dataLength);
    }
}
