using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Shmap.Building;
using Shmap.Format;
using Shmap.Store;

namespace Shmap;

/// <summary>
/// A mutable string map (the seed's <c>rbtree</c>) that writes immutable snapshots: to a shared
/// name (<see cref="Share"/>, <see cref="Publish"/>), to bytes (<see cref="Dump"/>) or to a stream
/// (<see cref="WriteTo"/>). Keys are ordered by ordinal UTF-8 bytes. Not thread-safe.
/// </summary>
public sealed class SharedMapBuilder : IEnumerable<KeyValuePair<string, string>>
{
    // Entries in no particular order (a removal moves the last one into the hole), found by key
    // through a hash table; key order is computed when needed (Utf8KeySort) and kept until a key
    // is added or removed. Replacing a value keeps it.
    private readonly Dictionary<byte[], int> _positions = new(KeyEquality.Instance);
    private byte[][] _keys = [];
    private byte[][] _values = [];
    private int[]? _ordered;
    private int _version;
    private long _dataLength;

    /// <summary>An empty builder.</summary>
    public SharedMapBuilder()
    {
    }

    /// <summary>A builder holding <paramref name="entries"/> (<see cref="AddRange"/>: the last value of a repeated key wins).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="entries"/>, a key or a value is null.</exception>
    /// <exception cref="ArgumentException">A string has an unpaired surrogate.</exception>
    public SharedMapBuilder(IEnumerable<KeyValuePair<string, string>> entries)
    {
        AddRange(entries);
    }

    /// <summary>Number of entries.</summary>
    public int Count => _positions.Count;

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

    /// <summary>Sets every entry of <paramref name="entries"/>, in order (<see cref="Set(string, string)"/>: the last set of a key wins).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="entries"/>, a key or a value is null.</exception>
    /// <exception cref="ArgumentException">A string has an unpaired surrogate.</exception>
    public void AddRange(IEnumerable<KeyValuePair<string, string>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (KeyValuePair<string, string> entry in entries)
        {
            Set(entry.Key, entry.Value);
        }
    }

    /// <summary>Sets a key to a value given as UTF-8 bytes; the last set wins.</summary>
    /// <exception cref="ArgumentException">The bytes are not valid UTF-8.</exception>
    public void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => SetCore(Utf8Text.Validate(key, nameof(key)), Utf8Text.Validate(value, nameof(value)));

    /// <summary>The value of <paramref name="key"/>, or null when it is absent.</summary>
    public string? Get(string key) => TryGetValue(key, out string? value) ? value : null;

    /// <summary>Looks <paramref name="key"/> up.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Utf8Text.TryEncode(key, out byte[]? utf8) && _positions.TryGetValue(utf8, out int position))
        {
            value = Utf8Text.Decode(_values[position]);
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>Whether <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Utf8Text.TryEncode(key, out byte[]? utf8) && _positions.ContainsKey(utf8);
    }

    /// <summary>Removes <paramref name="key"/>; returns whether it was present.</summary>
    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!Utf8Text.TryEncode(key, out byte[]? utf8) || !_positions.Remove(utf8, out int position))
        {
            return false;
        }

        _dataLength -= RecordCodec.RecordLength(utf8.Length, _values[position].Length);
        int last = _positions.Count;
        if (position != last)
        {
            _keys[position] = _keys[last];
            _values[position] = _values[last];
            _positions[_keys[position]] = position;
        }

        _keys[last] = null!;
        _values[last] = null!;
        Changed(ordered: false);
        return true;
    }

    /// <summary>Removes every entry.</summary>
    public void Clear()
    {
        _positions.Clear();
        _keys = [];
        _values = [];
        _dataLength = 0;
        Changed(ordered: false);
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
    public byte[] Dump() => Plan().ToArray();

    /// <summary>Writes the snapshot (the bytes <see cref="Dump"/> returns) to <paramref name="destination"/>; works for snapshots of any size.</summary>
    public void WriteTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Plan().WriteTo(destination);
    }

    /// <summary>Entries in ordinal UTF-8 key order.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        int version = _version;
        int[] order = Ordered();
        foreach (int position in order)
        {
            if (version != _version)
            {
                throw new InvalidOperationException("The builder was changed during enumeration.");
            }

            yield return new(Utf8Text.Decode(_keys[position]), Utf8Text.Decode(_values[position]));
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // Unsafe only to hand SnapshotWriter.Write, which fills the publisher's byte*, to Publisher as a
    // delegate (a method group of a pointer-taking method); no pointer is touched here.
    private unsafe long PublishCore(string name, SharedMapOptions? options, Publisher.Mode mode)
    {
        SharedName shared = SharedName.Create(name, options);
        SnapshotWriter writer = Plan();
        return Publisher.Publish(shared, options ?? SharedMapOptions.Default, mode, writer.FileLength, writer.Write);
    }

    private void SetCore(byte[] key, byte[] value)
    {
        int count = _positions.Count;
        ref int position = ref CollectionsMarshal.GetValueRefOrAddDefault(_positions, key, out bool exists);
        if (exists)
        {
            _dataLength += RecordCodec.RecordLength(key.Length, value.Length) - RecordCodec.RecordLength(key.Length, _values[position].Length);
            _values[position] = value;
            Changed(ordered: true);
            return;
        }

        if (count == SnapshotLayout.MaxCount || count == Array.MaxLength)
        {
            _positions.Remove(key);
            throw new InvalidOperationException($"A snapshot holds at most {Math.Min(SnapshotLayout.MaxCount, Array.MaxLength)} entries.");
        }

        if (count == _keys.Length)
        {
            int capacity = (int)Math.Min(Math.Max(4, 2L * count), Array.MaxLength);
            Array.Resize(ref _keys, capacity);
            Array.Resize(ref _values, capacity);
        }

        position = count;
        _keys[count] = key;
        _values[count] = value;
        _dataLength += RecordCodec.RecordLength(key.Length, value.Length);
        Changed(ordered: false);
    }

    /// <summary>Notes a change: enumerations in progress stop; the key order is forgotten unless only a value changed.</summary>
    private void Changed(bool ordered)
    {
        _version++;
        if (!ordered)
        {
            _ordered = null;
        }
    }

    /// <summary>Positions of the entries in key order.</summary>
    private int[] Ordered() => _ordered ??= Utf8KeySort.Order(_keys, _positions.Count);

    private SnapshotWriter Plan()
    {
        int[] order = Ordered();
        var keys = new byte[order.Length][];
        var values = new byte[order.Length][];
        for (int i = 0; i < order.Length; i++)
        {
            int position = order[i];
            keys[i] = _keys[position];
            values[i] = _values[position];
        }

        return SnapshotWriter.Plan(keys, values, _dataLength);
    }

    /// <summary>Key equality for the builder's table: a per-process random seed, so crafted keys cannot all collide.</summary>
    private sealed class KeyEquality : IEqualityComparer<byte[]>
    {
        public static readonly KeyEquality Instance = new();

        private static readonly KeyHasher s_hasher = new((ulong)Random.Shared.NextInt64());

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] key) => (int)s_hasher.Hash(key);
    }
}
