using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Shmap.Store;

namespace Shmap.Reading;

/// <summary>
/// The engine behind a live map: follows a shared name and serves its newest version. Checking for
/// a new version costs one read of the control word (the name's control file, mapped read-only);
/// no call takes a mark. A call reads the version <see cref="Current"/> serves, then asks
/// <see cref="StillServed"/>: if a newer version came meanwhile, the call reads again from that
/// one. Late calls on a version let go still read mapped memory: versions live in
/// <see cref="VersionRanges"/>.
/// </summary>
/// <remarks>
/// At most two versions are mapped: the one served and the one before (spans handed out stay
/// valid until the follower has moved on twice). The version moved past is released on a
/// thread-pool thread (dropping the last mapping of a large unlinked file takes milliseconds);
/// one such release is in flight at a time.
/// </remarks>
internal sealed class Follower : IDisposable
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
    private long _waitLooks;

    /// <summary>Opens the newest version of <paramref name="name"/>.</summary>
    /// <exception cref="SharedMapNotFoundException">Nothing is published under the name.</exception>
    public Follower(SharedName name)
    {
        _name = name;
        // The sequence is read before the snapshot is opened: a publish in between is seen at the first call.
        _control = ControlFile.TryOpenForReading(name);
        _seen = Handled(_control?.Sequence ?? 0);
        try
        {
            _current = new Served(SnapshotReader.Open(SnapshotFiles.OpenSnapshot(name), _ranges));
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
    public SharedName Name => _name;

    /// <summary>True when the name has been deleted (the last version keeps answering).</summary>
    public bool IsDeleted
    {
        get
        {
            _ = Current();
            return Volatile.Read(ref _deleted);
        }
    }

    /// <summary>Bytes of address space this follower holds for versions (tests).</summary>
    public long ReservedBytes => _ranges.ReservedBytes;

    /// <summary>
    /// The version a call reads: the one served, after a switch when the control word says a newer
    /// one was published. One read of the shared word; a look (under the gate) at most once per call,
    /// so an odd word that stays odd is looked at again by the next call, not in a loop.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The follower is disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Served Current()
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

    /// <summary>
    /// After a call read <paramref name="served"/>: whether it is still the version served. If it
    /// is, it was served throughout the call (versions only move forward), so its bytes were not
    /// let go under the call and the answer stands; if not, the call reads again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool StillServed(Served served)
    {
        // x86 keeps loads in order: the call's reads of the version all happened before the load
        // below. Elsewhere a barrier orders them.
        if (!X86Base.IsSupported)
        {
            Interlocked.MemoryBarrier();
        }

        return ReferenceEquals(Volatile.Read(ref _current), served);
    }

    /// <summary>The newest version for longer than one call (snapshots): a counted reference, which keeps its range from reuse. Release it.</summary>
    public SnapshotReader Acquire()
    {
        while (true)
        {
            Served served = Current();

            // Fails only once the follower has let the version go, so a newer one is served.
            if (served.Reader.TryAddReference())
            {
                return served.Reader;
            }
        }
    }

    /// <summary>Looks begun by this follower's waiters so far (tests: a look numbered above it begins later).</summary>
    public long WaitLooks => Interlocked.Read(ref _waitLooks);

    /// <summary>
    /// Tests: called with a look's number when the waiter found no newer version and is about to
    /// park, so a test knows the waiter is waiting instead of sleeping and hoping it is.
    /// </summary>
    public Action<long>? WaitParked { get; set; }

    /// <summary>Completes when a version newer than the one served now is published, with its number.</summary>
    public async Task<long> WaitForNewVersionAsync(CancellationToken cancellationToken)
    {
        long start = Current().Version;
        bool watching = EnsureWatcher();
        TimeSpan interval = watching ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(20);
        while (true)
        {
            long look = Interlocked.Increment(ref _waitLooks);
            Task changed = Volatile.Read(ref _changed).Task;
            long now = Current().Version;
            if (now > start)
            {
                return now;
            }

            WaitParked?.Invoke(look);
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

    /// <summary>Lets go of the versions held (their memory leaves this process now; their ranges return to the system once collected).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            // Calls that start from now on throw, and so do those in flight when they check.
            Served? current = Interlocked.Exchange(ref _current, null);
            _releasing.GetAwaiter().GetResult();
            current?.Reader.Release();
            _previous?.Reader.Release();
            _previous = null;
            _ranges.Close();

            // Calls in flight may still read the control word: its mapping goes when collected.
            _control?.CloseKeepingMapping();
            _control = null;
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    /// <summary>Behaves from now on as if file-system notifications were unavailable: waits poll (tests of the fallback).</summary>
    public void DisableNotifications()
    {
        lock (_gate)
        {
            _watcherFailed = true;
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    /// <summary>What to remember having handled after a look at <paramref name="sequence"/>: an odd (unsettled) one is remembered as the even one before it, so the next call looks again.</summary>
    private static ulong Handled(ulong sequence) => sequence & ~1UL;

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
                try
                {
                    control = _control = ControlFile.TryOpenForReading(_name);
                }
                catch (Exception e) when (e is ShmapException or IOException or UnauthorizedAccessException)
                {
                    // A control file that fails the trust checks (someone else's, in a shared
                    // directory) is never mapped; the version served stays, and calls go on.
                    return;
                }

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

    private void SwitchToNewest()
    {
        // The version let go at the last switch has its range back first, for this one to reuse.
        _releasing.GetAwaiter().GetResult();
        SnapshotReader next;
        try
        {
            next = SnapshotReader.Open(SnapshotFiles.OpenSnapshot(_name), _ranges);
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
        if (next.Header.PublishVersion <= _current!.Version)
        {
            next.Release();
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
        _releasing = Task.Run(() => retired.Reader.Release());
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
    private static void ThrowDisposed() => throw new ObjectDisposedException("LiveSharedMap");

    /// <summary>A version this follower serves.</summary>
    internal sealed class Served(SnapshotReader reader)
    {
        /// <summary>Its reader, one load from the follower for the point lookups.</summary>
        public SnapshotReader Reader { get; } = reader;

        /// <summary>Its publish version.</summary>
        public long Version { get; } = reader.Header.PublishVersion;
    }
}
