using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Shmap;

/// <summary>
/// Follows a shared name (<see cref="SharedMap.Follow"/>): every call answers from the newest
/// published version, and each call sees one complete version. Checking for a new version costs
/// one read of a word the publishers write (the name's control file, mapped read-only): no system
/// call, no lock, nothing written to shared memory. Thread-safe, Dispose included: calls in flight
/// finish on the version they started with, later ones throw <see cref="ObjectDisposedException"/>.
/// </summary>
/// <remarks>
/// <para>A follower keeps at most two versions mapped: the one it serves and the one before, so that
/// a span returned by <see cref="TryGetValue(ReadOnlySpan{byte}, out ReadOnlySpan{byte})"/> stays
/// valid until the follower has moved on by two versions. To read several things from one version,
/// or to keep spans longer, take a <see cref="Snapshot"/>. The version it moves past is unmapped on a
/// thread-pool thread, not in the call that switched (unmapping the last mapping of a large unlinked
/// file takes milliseconds); one such release is in flight at a time.</para>
/// <para>Old versions are unlinked when replaced; their memory returns to the system when the last
/// process unmaps them.</para>
/// </remarks>
public sealed class LiveSharedMap : IReadOnlyDictionary<string, string>, IDisposable
{
    private static readonly long s_controlRetryTicks = Stopwatch.Frequency / 10;

    private readonly SharedName _name;
    private readonly Lock _gate = new();
    /// <summary>This thread's slot in the follower it used last: one thread-static read on the common path (a ThreadLocal lookup costs several).</summary>
    [ThreadStatic]
    private static ReadSlot? s_lastSlot;

    private readonly ThreadLocal<ReadSlot> _slots;
    private ControlFile? _control;
    private Served? _current;
    private Served? _previous;
    private long _servedCount;
    private ulong _seen;
    private long _nextControlAttempt;
    private bool _deleted;
    private FileSystemWatcher? _watcher;
    private bool _watcherFailed;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _releasing = Task.CompletedTask;

    internal LiveSharedMap(SharedName name)
    {
        _name = name;
        _slots = new(() => new ReadSlot(this), trackAllValues: true);
        // The sequence is read before the snapshot is opened: a publish in between is seen at the first call.
        _control = ControlFile.TryOpenForReading(name);
        _seen = Handled(_control?.Sequence ?? 0);
        try
        {
            _current = new Served(SharedMap.OpenByPath(name), ++_servedCount);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            _control?.Dispose();
            throw new SharedMapNotFoundException(name.Name, name.SnapshotPath, e);
        }
        catch
        {
            _control?.Dispose();
            throw;
        }
    }

    /// <summary>The name followed.</summary>
    public string Name => _name.Name;

    /// <summary>The version that answers now (checks for a newer one first).</summary>
    public long Version => Read(static m => m.Version);

    /// <summary>When the version that answers now was published.</summary>
    public DateTimeOffset? PublishedAt => Read(static m => m.PublishedAt);

    /// <summary>True when the name has been deleted: the follower keeps answering from the last version it had, until the name is published again.</summary>
    public bool IsDeleted
    {
        get
        {
            Read(static m => m.Count);
            return Volatile.Read(ref _deleted);
        }
    }

    /// <summary>Number of entries of the version that answers now.</summary>
    public int Count => Read(static m => m.Count);

    /// <summary>Keys of one version, in order.</summary>
    public IEnumerable<string> Keys => this.Select(static e => e.Key);

    /// <summary>Values of one version, in key order.</summary>
    public IEnumerable<string> Values => this.Select(static e => e.Value);

    /// <summary>The value of <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> when absent.</summary>
    public string this[string key] => Get(key) ?? throw new KeyNotFoundException($"The key '{key}' is not in the shared map.");

    /// <summary>The value of <paramref name="key"/> in the newest version, or null.</summary>
    public string? Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ReadSlot slot = Enter(out Served served);
        try
        {
            return SharedMap.Find(served.Reader, key);
        }
        finally
        {
            slot.Exit();
        }
    }

    /// <summary>Looks <paramref name="key"/> up in the newest version.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ReadSlot slot = Enter(out Served served);
        try
        {
            value = SharedMap.Find(served.Reader, key);
            return value is not null;
        }
        finally
        {
            slot.Exit();
        }
    }

    /// <summary>
    /// Looks a UTF-8 key up in the newest version without copying. The span stays valid until this
    /// follower has moved on by two versions or is disposed; take a <see cref="Snapshot"/> to hold it longer.
    /// </summary>
    /// <remarks>
    /// Any thread's call on this follower can move it on. When other threads use the same follower,
    /// they can move it on twice while this thread still reads the span (a thread preempted for a few
    /// publishes is enough), and reading unmapped memory ends the process: then copy the value
    /// (<see cref="TryGetValue(string, out string)"/>), use a follower per thread, or read from a
    /// <see cref="Snapshot"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(ReadOnlySpan<byte> utf8Key, out ReadOnlySpan<byte> value)
    {
        ReadSlot slot = Enter(out Served served);
        try
        {
            return served.Reader.TryGetValue(utf8Key, out value);
        }
        finally
        {
            slot.Exit();
        }
    }

    /// <summary>
    /// Looks many keys up in one version (the newest when the call starts); see
    /// <see cref="SharedMap.GetMany(ReadOnlySpan{string}, Span{string})"/>. For the zero-allocation
    /// UTF-8 batch, take a <see cref="Snapshot"/> and call it there.
    /// </summary>
    public void GetMany(ReadOnlySpan<string> keys, Span<string?> values)
    {
        ReadSlot slot = Enter(out SharedMap map);
        try
        {
            map.GetMany(keys, values);
        }
        finally
        {
            slot.Exit();
        }
    }

    /// <summary>Whether <paramref name="key"/> is in the newest version.</summary>
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <summary>The entry of rank <paramref name="index"/> in the newest version.</summary>
    public KeyValuePair<string, string> GetAt(int index)
    {
        ReadSlot slot = Enter(out SharedMap map);
        try
        {
            return map.GetAt(index);
        }
        finally
        {
            slot.Exit();
        }
    }

    /// <summary>The rank of <paramref name="key"/> in the newest version, or -1.</summary>
    public int IndexOf(string key)
    {
        ReadSlot slot = Enter(out SharedMap map);
        try
        {
            return map.IndexOf(key);
        }
        finally
        {
            slot.Exit();
        }
    }

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
        SharedMap map = Acquire();
        return new SharedMap(map.DangerousReader, map.Shared, map.Path); // takes over the acquired reference
    }

    /// <summary>
    /// Completes when a version newer than the one answering now is published, with its number.
    /// Woken by a file-system notification (inotify) on the name's control file, with polling as
    /// a fallback where notifications are unavailable.
    /// </summary>
    public async Task<long> WaitForNewVersionAsync(CancellationToken cancellationToken = default)
    {
        long start = Version;
        bool watching = EnsureWatcher();
        TimeSpan interval = watching ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(20);
        while (true)
        {
            Task changed = Volatile.Read(ref _changed).Task;
            long now = Version;
            if (now > start)
            {
                return now;
            }

            try
            {
                await changed.WaitAsync(interval, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Fallback poll: notifications can be missed or unavailable.
            }
        }
    }

    /// <summary>Unmaps what this follower holds. Snapshots taken from it stay valid until disposed.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            // Calls that start from now on throw; those in flight finish on what they marked.
            Served? current = Interlocked.Exchange(ref _current, null);
            _releasing.GetAwaiter().GetResult();
            if (current is not null)
            {
                ReleaseWhenUnread(current);
            }

            if (_previous is not null)
            {
                ReleaseWhenUnread(_previous);
            }

            _previous = null;
            _control?.Dispose();
            _control = null;
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    /// <summary>
    /// Starts a call: switches to a newer version if one was published, then marks the version the
    /// call reads in this thread's slot, which keeps it mapped until <see cref="ReadSlot.Exit"/>.
    /// No atomic instruction and no fence: see <see cref="ReadSlot"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadSlot Enter(out SharedMap map)
    {
        ReadSlot slot = Enter(out Served served);
        map = served.Map;
        return slot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadSlot Enter(out Served served)
    {
        ReadSlot? slot = s_lastSlot;
        if (slot is null || !ReferenceEquals(slot.Owner, this))
        {
            slot = s_lastSlot = _slots.Value!;
        }

        bool looked = false;
        while (true)
        {
            Served? current = Volatile.Read(ref _current);
            if (current is null)
            {
                slot.Exit();
                ThrowDisposed();
            }

            slot.Enter(current.Id);

            // Unchanged after the mark: a retirer that swapped it out since will see the mark (it
            // flushes every thread's stores before it looks); if it changed, mark the newer one.
            if (!ReferenceEquals(Volatile.Read(ref _current), current))
            {
                continue;
            }

            // Marked, so Dispose (which waits for marks before unmapping the control file) cannot
            // unmap the word read here. A look at most once per call: an odd word stays unhandled.
            ControlFile? control = _control;
            if (!looked && (control is null || control.Sequence != Volatile.Read(ref _seen)))
            {
                slot.Exit();
                Refresh();
                looked = true;
                continue;
            }

            served = current;
            return slot;
        }
    }

    /// <summary>A version that answers for longer than one call (snapshots): a counted reference, taken under this thread's mark.</summary>
    private SharedMap Acquire()
    {
        ReadSlot slot = Enter(out SharedMap map);
        try
        {
            // The mark keeps the follower's own reference alive, so this cannot fail.
            return map.DangerousReader.TryAddReference() ? map : throw new ObjectDisposedException(nameof(LiveSharedMap));
        }
        finally
        {
            slot.Exit();
        }
    }

    /// <summary>
    /// Drops the follower's reference to <paramref name="retired"/> once no call is reading it:
    /// every thread's pending stores are made visible (a process-wide barrier, the only costly step,
    /// taken once per switch), then each slot still marking it is waited for; calls are short.
    /// </summary>
    private void ReleaseWhenUnread(Served retired)
    {
        Interlocked.MemoryBarrierProcessWide();
        foreach (ReadSlot slot in _slots.Values)
        {
            var wait = default(SpinWait);
            while (slot.IsReading(retired.Id))
            {
                wait.SpinOnce();
            }
        }

        retired.Map.DangerousReader.Release();
    }

    /// <summary>
    /// One thread's mark of the version its current call reads (hazard pointer). The reader writes it
    /// with a plain store and re-reads <c>_current</c>; x86 may let that re-read pass the store, which
    /// is why the retirer runs <see cref="Interlocked.MemoryBarrierProcessWide"/> after swapping the
    /// version out and before it looks at the marks: a reader whose re-read still saw the old version
    /// has by then made its mark visible, and one that re-reads later sees the new version.
    /// </summary>
    private sealed class ReadSlot(LiveSharedMap owner)
    {
        /// <summary>The follower whose slot this is (thread-static caches check it).</summary>
        public LiveSharedMap Owner { get; } = owner;

        // The served version's id, not a reference to it: storing a number needs no GC write barrier.
        private long _reading;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Enter(long id) => Volatile.Write(ref _reading, id);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Exit() => Volatile.Write(ref _reading, 0);

        public bool IsReading(long id) => Volatile.Read(ref _reading) == id;
    }

    /// <summary>A version this follower serves, with an id unique within the follower (1, 2, …) that read slots mark.</summary>
    private sealed class Served(SharedMap map, long id)
    {
        public SharedMap Map { get; } = map;

        /// <summary>The map's reader, one load nearer for the point lookups.</summary>
        public Reading.SnapshotReader Reader { get; } = map.DangerousReader;

        public long Id { get; } = id;
    }

    private T Read<T>(Func<SharedMap, T> read)
    {
        ReadSlot slot = Enter(out SharedMap map);
        try
        {
            return read(map);
        }
        finally
        {
            slot.Exit();
        }
    }

    private IEnumerable<KeyValuePair<string, string>> FromSnapshot(Func<SharedMap, IEnumerable<KeyValuePair<string, string>>> select)
    {
        using SharedMap snapshot = Snapshot();
        foreach (KeyValuePair<string, string> entry in select(snapshot))
        {
            yield return entry;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Refresh()
    {
        lock (_gate)
        {
            if (_current is null)
            {
                return;
            }

            ControlFile? control = _control;
            if (control is null)
            {
                // No control file yet (a snapshot copied in by hand): look again now and then.
                long now = Stopwatch.GetTimestamp();
                if (now < _nextControlAttempt)
                {
                    return;
                }

                _nextControlAttempt = now + s_controlRetryTicks;
                control = _control = ControlFile.TryOpenForReading(_name);
                if (control is null)
                {
                    return;
                }
            }

            ulong sequence = control.Sequence;
            if (sequence == _seen)
            {
                return;
            }

            // An odd sequence is a change under way: N.shmap may be replaced after the look below,
            // so it is not marked handled and the next call looks again, unless the publisher that
            // began it is gone (it holds the lock until the change is recorded). The lock is probed
            // before the look, so a change that publisher completed is in what the look finds.
            bool settled = !ControlFile.IsChanging(sequence) || control.IsChangeAbandoned();

            // Whatever happens below, a settled sequence is handled: a failed look is not retried
            // until the publishers change the word again. It is marked handled only at the end, so
            // a concurrent caller waits on the gate rather than answer from the older version.
            try
            {
                SwitchToNewest();
            }
            finally
            {
                Volatile.Write(ref _seen, settled ? sequence : Handled(sequence));
            }
        }
    }

    /// <summary>What to remember having handled after a look at <paramref name="sequence"/>: an odd (unsettled) one is remembered as the even one before it, so the next call looks again.</summary>
    private static ulong Handled(ulong sequence) => sequence & ~1UL;

    private void SwitchToNewest()
    {
        SharedMap next;
        try
        {
            next = SharedMap.OpenByPath(_name);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            Volatile.Write(ref _deleted, true);
            Signal();
            return;
        }
        catch (Exception e) when (e is ShmapException or IOException or UnauthorizedAccessException)
        {
            // A snapshot that does not validate is never served: keep the last good version.
            return;
        }

        Volatile.Write(ref _deleted, false);
        if (next.Version <= _current!.Map.Version)
        {
            next.Dispose();
            return;
        }

        Served? retired = _previous;
        _previous = _current;
        Volatile.Write(ref _current, new Served(next, ++_servedCount));
        Signal();
        if (retired is not null)
        {
            ReleaseInBackground(retired);
        }
    }

    /// <summary>
    /// Releases <paramref name="retired"/> off the calling thread: this call answers from the new
    /// version at once. One release at a time, so a follower switching faster than versions unmap
    /// waits here for the one before and never holds more than one retiring version.
    /// </summary>
    private void ReleaseInBackground(Served retired)
    {
        _releasing.GetAwaiter().GetResult();
        _releasing = Task.Run(() => ReleaseWhenUnread(retired));
    }

    /// <summary>Behaves from now on as if file-system notifications were unavailable: waits poll (tests of the fallback).</summary>
    internal void DisableNotifications()
    {
        lock (_gate)
        {
            _watcherFailed = true;
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    private void Signal() => Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private bool EnsureWatcher()
    {
        lock (_gate)
        {
            if (_watcher is not null || _watcherFailed)
            {
                return _watcher is not null;
            }

            try
            {
                string controlFile = Path.GetFileName(_name.ControlPath);
                var watcher = new FileSystemWatcher(_name.Directory)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Attributes | NotifyFilters.CreationTime,
                    IncludeSubdirectories = false,
                };
                FileSystemEventHandler handler = (_, e) =>
                {
                    if (e.Name == controlFile || e.Name == Path.GetFileName(_name.SnapshotPath))
                    {
                        Signal();
                    }
                };
                watcher.Changed += handler;
                watcher.Created += handler;
                watcher.Deleted += handler;
                watcher.Renamed += (_, e) => handler(watcher, e);
                watcher.EnableRaisingEvents = true;
                _watcher = watcher;
                return true;
            }
            catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
            {
                // inotify unavailable (limits reached, unsupported file system): poll instead.
                _watcherFailed = true;
                return false;
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(LiveSharedMap));
}
