using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Shmap.Reading;
using Shmap.Store;

namespace Shmap;

/// <summary>
/// Follows a shared name (<see cref="SharedMap.Follow"/>): every call answers from the newest
/// published version, and each call sees one complete version. Checking for a new version costs
/// one read of a word the publishers write (the name's control file, mapped read-only): no system
/// call, no lock, nothing written to shared memory, and no mark of any kind: a read costs what the
/// same read on a <see cref="SharedMap"/> costs. Thread-safe, Dispose included: calls racing with
/// Dispose either answer or throw <see cref="ObjectDisposedException"/>.
/// </summary>
/// <remarks>
/// <para>A call reads the version served when it starts and then checks that the follower still
/// serves it; when a newer version came meanwhile, the call is answered again from that one, so
/// no answer mixes versions or comes from bytes being replaced. This needs the bytes a late call
/// reads to stay mapped: versions live in address ranges the follower reuses (see
/// the follower's version ranges), and a range is returned to the system only once the garbage collector has
/// shown that no call can still be on it.</para>
/// <para>A follower keeps at most two versions mapped: the one it serves and the one before, so that
/// a span returned by <see cref="TryGetValue(ReadOnlySpan{byte}, out ReadOnlySpan{byte})"/> stays
/// valid until the follower has moved on by two versions. To read several things from one version,
/// or to keep spans longer, take a <see cref="Snapshot"/>. The version it moves past is released on
/// a thread-pool thread, not in the call that switched (dropping the last mapping of a large
/// unlinked file takes milliseconds); one such release is in flight at a time.</para>
/// <para>Old versions are unlinked when replaced; their memory returns to the system when the last
/// process lets them go.</para>
/// </remarks>
public sealed class LiveSharedMap : IReadOnlyDictionary<string, string>, IDisposable
{
    // The engine (version switching, ranges, notifications) is Reading's Follower; this façade
    // only asks it for the version served and whether that is still the one served after a read.
    private readonly Follower _follower;

    /// <summary>
    /// Follows <paramref name="name"/> (what <see cref="SharedMap.Follow"/> returns): every call
    /// answers from the newest published version.
    /// </summary>
    /// <exception cref="SharedMapNotFoundException">Nothing is published under the name.</exception>
    /// <exception cref="ArgumentException">The name is not usable.</exception>
    public LiveSharedMap(string name, SharedMapOptions? options = null)
    {
        _follower = new Follower(SharedName.Create(name, options));
    }

    /// <summary>The name followed.</summary>
    public string Name => _follower.Name.Name;

    /// <summary>The version that answers now (checks for a newer one first).</summary>
    public long Version => _follower.Current().Version;

    /// <summary>When the version that answers now was published.</summary>
    public DateTimeOffset? PublishedAt
    {
        get
        {
            long at = _follower.Current().Reader.Header.PublishedAtUnixMs;
            return at == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(at);
        }
    }

    /// <summary>True when the name has been deleted: the follower keeps answering from the last version it had, until the name is published again.</summary>
    public bool IsDeleted => _follower.IsDeleted;

    /// <summary>Number of entries of the version that answers now.</summary>
    public int Count => _follower.Current().Reader.Count;

    /// <summary>Keys of one version, in order (values are not decoded).</summary>
    public IEnumerable<string> Keys => FromSnapshot(static m => m.Keys);

    /// <summary>Values of one version, in key order (keys are not decoded).</summary>
    public IEnumerable<string> Values => FromSnapshot(static m => m.Values);

    /// <summary>Bytes of address space this follower holds for versions (tests).</summary>
    internal long ReservedBytes => _follower.ReservedBytes;

    /// <summary>The value of <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> when absent.</summary>
    public string this[string key] => Get(key) ?? throw new KeyNotFoundException($"The key '{key}' is not in the shared map.");

    /// <summary>The value of <paramref name="key"/> in the newest version, or null.</summary>
    public string? Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Find(key);
    }

    /// <summary>The value of <paramref name="key"/> in the newest version, or null (a key cut out of a larger buffer needs no string).</summary>
    public string? Get(ReadOnlySpan<char> key) => Find(key);

    /// <summary>Looks <paramref name="key"/> up in the newest version.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        value = Get(key);
        return value is not null;
    }

    /// <summary>Looks <paramref name="key"/> up in the newest version.</summary>
    public bool TryGetValue(ReadOnlySpan<char> key, [MaybeNullWhen(false)] out string value)
    {
        value = Find(key);
        return value is not null;
    }

    /// <summary>
    /// Copies the value of <paramref name="key"/> in the newest version into
    /// <paramref name="destination"/> without allocating; false (and 0 chars) when the key is absent.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the value (the message gives the length needed).</exception>
    public bool TryCopyValue(ReadOnlySpan<char> key, Span<char> destination, out int charsWritten)
    {
        Follower follower = _follower;
        while (true)
        {
            Follower.Served served = follower.Current();
            int result = StringLookup.Copy(served.Reader, key, destination, out bool unreadable);
            if (follower.StillServed(served))
            {
                if (unreadable)
                {
                    // A record that does not fit: the strict lookup throws the exception naming it,
                    // or answers from the version served by now.
                    string? value = FindOrThrow(served, key);
                    result = value is null ? -1 : value.AsSpan().TryCopyTo(destination) ? value.Length : -2 - value.Length;
                }

                return StringLookup.CopyResult(result, destination.Length, nameof(destination), out charsWritten);
            }
        }
    }

    /// <summary>The value of <paramref name="key"/> in the newest version; throws <see cref="KeyNotFoundException"/> when absent.</summary>
    public string this[ReadOnlySpan<char> key] => Find(key) ?? throw new KeyNotFoundException($"The key '{key}' is not in the shared map.");

    /// <summary>Whether <paramref name="key"/> is in the newest version.</summary>
    public bool ContainsKey(ReadOnlySpan<char> key) => Find(key) is not null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private string? Find(ReadOnlySpan<char> key)
    {
        Follower follower = _follower;
        while (true)
        {
            Follower.Served served = follower.Current();
            string? value = StringLookup.Find(served.Reader, key, out bool unreadable);
            if (follower.StillServed(served))
            {
                return unreadable ? FindOrThrow(served, key) : value;
            }
        }
    }

    /// <summary>
    /// Looks a UTF-8 key up in the newest version without copying. The span stays valid until this
    /// follower has moved on by two versions or is disposed; take a <see cref="Snapshot"/> to hold it longer.
    /// </summary>
    /// <remarks>
    /// Any thread's call on this follower can move it on. When other threads use the same follower,
    /// they can move it on twice while this thread still reads the span (a thread preempted for a few
    /// publishes is enough); the span then shows zeros or bytes of a later version (never memory
    /// outside the follower's ranges, as long as the follower is reachable). Then copy the value
    /// (<see cref="TryGetValue(string, out string)"/>), use a follower per thread, or read from a
    /// <see cref="Snapshot"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(ReadOnlySpan<byte> utf8Key, out ReadOnlySpan<byte> value)
    {
        Follower follower = _follower;
        while (true)
        {
            Follower.Served served = follower.Current();
            ulong offset = served.Reader.TryFind(utf8Key, out value);
            if (follower.StillServed(served))
            {
                return offset == SnapshotReader.Unreadable ? TryGetValueOrThrow(served, utf8Key, out value) : offset != 0;
            }
        }
    }

    /// <summary>
    /// Looks many keys up in one version (the newest when the call starts); see
    /// <see cref="SharedMap.GetMany(ReadOnlySpan{string}, Span{string})"/>. For the zero-allocation
    /// UTF-8 batch, take a <see cref="Snapshot"/> and call it there.
    /// </summary>
    public void GetMany(ReadOnlySpan<string> keys, Span<string?> values)
    {
        while (true)
        {
            Follower.Served served = _follower.Current();
            try
            {
                StringLookup.CheckMany(keys, values);
                StringLookup.GetMany(served.Reader, keys, values);
            }
            catch (Exception) when (!_follower.StillServed(served))
            {
                continue;
            }

            if (_follower.StillServed(served))
            {
                return;
            }
        }
    }

    /// <summary>Whether <paramref name="key"/> is in the newest version.</summary>
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <summary>The entry of rank <paramref name="index"/> in the newest version.</summary>
    public KeyValuePair<string, string> GetAt(int index) => Read(reader => StringLookup.GetAt(reader, index));

    /// <summary>The rank of <paramref name="key"/> in the newest version, or -1.</summary>
    public int IndexOf(string key) => Read(reader => StringLookup.IndexOf(reader, key));

    /// <summary>Entries in [<paramref name="fromInclusive"/>, <paramref name="toExclusive"/>) of one version (the newest when enumeration starts).</summary>
    public IEnumerable<KeyValuePair<string, string>> Range(string? fromInclusive, string? toExclusive)
    {
        using SharedMap check = Snapshot();
        _ = check.Range(fromInclusive, toExclusive); // argument errors now, not at enumeration
        return FromSnapshot(m => m.Range(fromInclusive, toExclusive));
    }

    /// <summary>Entries whose key starts with <paramref name="prefix"/>, of one version.</summary>
    public IEnumerable<KeyValuePair<string, string>> StartsWith(string prefix)
    {
        using SharedMap check = Snapshot();
        _ = check.StartsWith(prefix);
        return FromSnapshot(m => m.StartsWith(prefix));
    }

    /// <summary>All entries of one version (the newest when enumeration starts), in key order.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => FromSnapshot(static m => m).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The newest version as a <see cref="SharedMap"/> of its own, for several reads from one version. Dispose it.</summary>
    public SharedMap Snapshot()
    {
        SnapshotReader reader = _follower.Acquire();
        SharedName name = _follower.Name;
        return new SharedMap(reader, name, name.SnapshotPath); // takes over the acquired reference
    }

    /// <summary>
    /// Completes when a version newer than the one answering now is published, with its number.
    /// Woken by a file-system notification (inotify) on the name's control file, with polling as
    /// a fallback where notifications are unavailable.
    /// </summary>
    public Task<long> WaitForNewVersionAsync(CancellationToken cancellationToken = default) => _follower.WaitForNewVersionAsync(cancellationToken);

    /// <summary>
    /// Lets go of the versions this follower holds (their memory leaves this process now; the
    /// address ranges they used return to the system once collected). Snapshots taken from it stay
    /// valid until disposed.
    /// </summary>
    public void Dispose() => _follower.Dispose();

    /// <summary>Behaves from now on as if file-system notifications were unavailable: waits poll (tests of the fallback).</summary>
    internal void DisableNotifications() => _follower.DisableNotifications();

    /// <summary>Looks begun by waiters so far (tests of <see cref="WaitForNewVersionAsync"/>).</summary>
    internal long WaitLooks => _follower.WaitLooks;

    /// <summary>Calls <paramref name="parked"/> with a look's number each time a waiter found no newer version and is about to park (tests).</summary>
    internal void OnWaitParked(Action<long> parked) => _follower.WaitParked = parked;

    /// <summary>A record on the way did not fit in the version still served: the strict lookup throws the exception that says which.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryGetValueOrThrow(Follower.Served served, ReadOnlySpan<byte> utf8Key, out ReadOnlySpan<byte> value)
    {
        try
        {
            bool found = served.Reader.TryGetValue(utf8Key, out value);
            if (_follower.StillServed(served))
            {
                return found;
            }
        }
        catch (ShmapException) when (!_follower.StillServed(served))
        {
            // Moved on meanwhile: ask the version served now.
        }

        return TryGetValue(utf8Key, out value);
    }

    /// <summary><see cref="TryGetValueOrThrow"/> for string keys.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private string? FindOrThrow(Follower.Served served, ReadOnlySpan<char> key)
    {
        try
        {
            string? value = StringLookup.FindOrThrow(served.Reader, key);
            if (_follower.StillServed(served))
            {
                return value;
            }
        }
        catch (ShmapException) when (!_follower.StillServed(served))
        {
            // Moved on meanwhile: ask the version served now.
        }

        return Find(key);
    }

    /// <summary>A read of the newest version that is not a point lookup: retried when the version changed under it, whatever it threw then.</summary>
    private T Read<T>(Func<SnapshotReader, T> read)
    {
        while (true)
        {
            Follower.Served served = _follower.Current();
            T result;
            try
            {
                result = read(served.Reader);
            }
            catch (Exception) when (!_follower.StillServed(served))
            {
                continue;
            }

            if (_follower.StillServed(served))
            {
                return result;
            }
        }
    }

    private IEnumerable<T> FromSnapshot<T>(Func<SharedMap, IEnumerable<T>> select)
    {
        using SharedMap snapshot = Snapshot();
        foreach (T item in select(snapshot))
        {
            yield return item;
        }
    }
}
