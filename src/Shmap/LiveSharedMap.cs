using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
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
/// <c>VersionRanges</c>), and a range is returned to the system only once the garbage collector has
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
    private static readonly long s_controlRetryTicks = Stopwatch.Frequency / 10;

    private readonly SharedName _name;
    private readonly Lock _gate = new();
    private readonly VersionRanges _ranges = new();
    private ControlFile? _control;
    private Served? _current;
    private Served? _previous;
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
        // The sequence is read before the snapshot is opened: a publish in between is seen at the first call.
        _control = ControlFile.TryOpenForReading(name);
        _seen = Handled(_control?.Sequence ?? 0);
        try
        {
            _current = new Served(SharedMap.OpenByPath(name, _ranges));
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
    public long Version => Current().Map.Version;

    /// <summary>When the version that answers now was published.</summary>
    public DateTimeOffset? PublishedAt => Current().Map.PublishedAt;

    /// <summary>True when the name has been deleted: the follower keeps answering from the last version it had, until the name is published again.</summary>
    public bool IsDeleted
    {
        get
        {
            _ = Current();
            return Volatile.Read(ref _deleted);
        }
    }

    /// <summary>Number of entries of the version that answers now.</summary>
    public int Count => Current().Map.Count;

    /// <summary>Keys of one version, in order.</summary>
    public IEnumerable<string> Keys => this.Select(static e => e.Key);

    /// <summary>Values of one version, in key order.</summary>
    public IEnumerable<string> Values => this.Select(static e => e.Value);

    /// <summary>Bytes of address space this follower holds for versions (tests).</summary>
    internal long ReservedBytes => _ranges.ReservedBytes;

    /// <summary>The value of <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> when absent.</summary>
    public string this[string key] => Get(key) ?? throw new KeyNotFoundException($"The key '{key}' is not in the shared map.");

    /// <summary>The value of <paramref name="key"/> in the newest version, or null.</summary>
    public string? Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        while (true)
        {
            Served served = Current();
            string? value = SharedMap.Find(served.Reader, key, out bool unreadable);
            if (StillServed(served))
            {
                return unreadable ? FindOrThrow(served, key) : value;
            }
        }
    }

    /// <summary>Looks <paramref name="key"/> up in the newest version.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        value = Get(key);
        return value is not null;
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
        while (true)
        {
            Served served = Current();
            ulong offset = served.Reader.TryFind(utf8Key, out value);
            if (StillServed(served))
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
            Served served = Current();
            try
            {
                served.Map.GetMany(keys, values);
            }
            catch (Exception) when (!StillServed(served))
            {
                continue;
            }

            if (StillServed(served))
            {
                return;
            }
        }
    }

    /// <summary>Whether <paramref name="key"/> is in the newest version.</summary>
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <summary>The entry of rank <paramref name="index"/> in the newest version.</summary>
    public KeyValuePair<string, string> GetAt(int index) => Read(map => map.GetAt(index));

    /// <summary>The rank of <paramref name="key"/> in the newest version, or -1.</summary>
    public int IndexOf(string key) => Read(map => map.IndexOf(key));

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

    /// <summary>
    /// Lets go of the versions this follower holds (their memory leaves this process now; the
    /// address ranges they used return to the system once collected). Snapshots taken from it stay
    /// valid until disposed.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            // Calls that start from now on throw, and so do those in flight when they check.
            Served? current = Interlocked.Exchange(ref _current, null);
            _releasing.GetAwaiter().GetResult();
            current?.Map.DangerousReader.Release();
            _previous?.Map.DangerousReader.Release();
            _previous = null;
            _ranges.Close();

            // Calls in flight may still read the control word: its mapping goes when collected.
            _control?.CloseKeepingMapping();
            _control = null;
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    /// <summary>
    /// The version a call reads: the one served, after a switch when the control word says a newer
    /// one was published. One read of the shared word; a look (under the gate) at most once per call,
    /// so an odd word that stays odd is looked at again by the next call, not in a loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Served Current()
    {
        Served? current = Volatile.Read(ref _current);
        ControlFile? control = _control;
        if (current is null || control is null || control.Sequence != Volatile.Read(ref _seen))
        {
            return Refreshed();
        }

        // The control file is unmapped only once collected: keep it reachable until its word was read.
        GC.KeepAlive(control);
        return current;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Served Refreshed()
    {
        Refresh();
        Served? current = Volatile.Read(ref _current);
        if (current is null)
        {
            ThrowDisposed();
        }

        return current;
    }

    /// <summary>
    /// After a call read <paramref name="served"/>: whether it is still the version served. If it
    /// is, it was served throughout the call (versions only move forward), so its bytes were not
    /// let go under the call and the answer stands; if not, the call reads again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool StillServed(Served served)
    {
        // x86 keeps loads in order: the call's reads of the version all happened before the load
        // below. Elsewhere a barrier orders them.
        if (!X86Base.IsSupported)
        {
            Interlocked.MemoryBarrier();
        }

        return ReferenceEquals(Volatile.Read(ref _current), served);
    }

    /// <summary>A record on the way did not fit in the version still served: the strict lookup throws the exception that says which.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryGetValueOrThrow(Served served, ReadOnlySpan<byte> utf8Key, out ReadOnlySpan<byte> value)
    {
        try
        {
            bool found = served.Reader.TryGetValue(utf8Key, out value);
            if (StillServed(served))
            {
                return found;
            }
        }
        catch (ShmapException) when (!StillServed(served))
        {
            // Moved on meanwhile: ask the version served now.
        }

        return TryGetValue(utf8Key, out value);
    }

    /// <summary><see cref="TryGetValueOrThrow"/> for string keys.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private string? FindOrThrow(Served served, string key)
    {
        try
        {
            string? value = SharedMap.FindOrThrow(served.Reader, key);
            if (StillServed(served))
            {
                return value;
            }
        }
        catch (ShmapException) when (!StillServed(served))
        {
            // Moved on meanwhile: ask the version served now.
        }

        return Get(key);
    }

    /// <summary>A version that answers for longer than one call (snapshots): a counted reference, which keeps its range from reuse.</summary>
    private SharedMap Acquire()
    {
        while (true)
        {
            Served served = Current();

            // Fails only once the follower has let the version go, so a newer one is served.
            if (served.Map.DangerousReader.TryAddReference())
            {
                return served.Map;
            }
        }
    }

    /// <summary>A version this follower serves.</summary>
    private sealed class Served(SharedMap map)
    {
        public SharedMap Map { get; } = map;

        /// <summary>The map's reader, one load nearer for the point lookups.</summary>
        public SnapshotReader Reader { get; } = map.DangerousReader;
    }

    /// <summary>A read of the newest version that is not a point lookup: retried when the version changed under it, whatever it threw then.</summary>
    private T Read<T>(Func<SharedMap, T> read)
    {
        while (true)
        {
            Served served = Current();
            T result;
            try
            {
                result = read(served.Map);
            }
            catch (Exception) when (!StillServed(served))
            {
                continue;
            }

            if (StillServed(served))
            {
                return result;
            }
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
        // The version let go at the last switch has its range back first, for this one to reuse.
        _releasing.GetAwaiter().GetResult();
        SharedMap next;
        try
        {
            next = SharedMap.OpenByPath(_name, _ranges);
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
        Volatile.Write(ref _current, new Served(next));
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
        _releasing = Task.Run(() => retired.Map.DangerousReader.Release());
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
