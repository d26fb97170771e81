using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Shmap.Nats;

/// <summary>
/// Follows a bucket on one host (README, "Many hosts"): for each new version of the names it
/// follows, streams the object into a private temporary file in the host's Shmap directory,
/// checks its SHA-256, its size and its header against the metadata, then publishes it with
/// <see cref="SharedMap.Import"/> (which verifies the whole snapshot again before the atomic
/// rename), so every local <see cref="LiveSharedMap"/> follows it. A download that fails any check
/// is deleted and the previous local version keeps serving; lost connections, server restarts
/// and leader changes end in a reconnect and a catch-up to the newest version of every name.
/// </summary>
/// <remarks>
/// One agent per Shmap directory: it holds an exclusive lock on <c>.shmap-sync/agent.lock</c> there
/// and, at start, removes the temporary files a killed agent left. It knows what the host has by
/// comparing the local snapshot's header (length, entries, body checksum) with the object's
/// metadata, so a restarted agent downloads only what changed.
/// </remarks>
public sealed class ShmapSyncAgent
{
    /// <summary>The snapshot format version this agent can publish (the core reads and writes version 1: docs/FORMAT.md).</summary>
    public const int SupportedFormatVersion = 1;

    /// <summary>The private subdirectory of the Shmap directory where downloads are written.</summary>
    public const string WorkDirectoryName = ".shmap-sync";

    /// <summary>The event id of the log line written for each version handled (the same facts as <see cref="VersionHandled"/>).</summary>
    public static readonly EventId VersionEventId = new(1, "VersionHandled");

    private const string TempSuffix = ".part";

    private readonly NatsConnection _connection;
    private readonly ShmapSyncOptions _options;
    private readonly SharedMapOptions _local;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RemoteMap> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _handled = new(StringComparer.Ordinal);
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _names;
    private RemoteMap? _active;
    private CancellationTokenSource? _activeCancel;
    private string _work = string.Empty;

    /// <summary>An agent on <paramref name="connection"/> (credentials, TLS and reconnect policy are the connection's options).</summary>
    public ShmapSyncAgent(INatsConnection connection, ShmapSyncOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection as NatsConnection ?? throw new ArgumentException("A NatsConnection is required.", nameof(connection));
        _options = options ?? new ShmapSyncOptions();
        _local = _options.Local ?? SharedMapOptions.Default;
        _logger = logger ?? NullLogger.Instance;
        _names = new HashSet<string>(_options.Names, StringComparer.Ordinal);
    }

    /// <summary>Raised (on the agent's worker) for each version handled: published, already current, rejected, removed.</summary>
    public event EventHandler<ShmapSyncEventArgs>? VersionHandled;

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled. Errors of the network or the server are logged and retried, never thrown.</summary>
    /// <exception cref="InvalidOperationException">Another agent runs on the directory, or the directory is not private.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using FileStream agentLock = PrepareWorkDirectory();
        Task worker = WorkAsync(cancellationToken);
        TimeSpan delay = _options.RetryDelay;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await WatchAsync(() => delay = _options.RetryDelay, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    _logger.LogWarning("Watching bucket '{Bucket}' failed ({Error}); trying again in {Delay} ms.", _options.Bucket, Describe(e), (int)delay.TotalMilliseconds);
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _queue.Writer.TryComplete();
            try
            {
                await worker.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Creates the private work directory, takes the agent lock, removes stale downloads.</summary>
    private FileStream PrepareWorkDirectory()
    {
        string directory = _local.ResolvedDirectory;
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(directory, Private);

        // The core's checks (owner, no group/other write unless sticky, no link): throws when untrusted.
        _ = SharedMap.Exists("shmap-sync-probe", _local);
        if ((File.GetUnixFileMode(directory) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new InvalidOperationException($"The Shmap directory {directory} is writable by other users; a sync agent needs a private one (SHMAP_DIR or --dir).");
        }

        _work = Path.Combine(directory, WorkDirectoryName);
        Directory.CreateDirectory(_work, Private);
        var info = new DirectoryInfo(_work);
        if (info.LinkTarget is not null || File.GetUnixFileMode(_work) != Private)
        {
            throw new InvalidOperationException($"{_work} is not a private directory (a link, or mode other than 700); remove it and start again.");
        }

        FileStream agentLock;
        try
        {
            // FileShare.None is an exclusive flock on Linux: a second agent on this directory fails here.
            agentLock = new FileStream(Path.Combine(_work, "agent.lock"), new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"Another sync agent runs on {directory} (it holds {Path.Combine(_work, "agent.lock")}).", e);
        }

        foreach (string stale in Directory.EnumerateFiles(_work, "*" + TempSuffix))
        {
            File.Delete(stale);
            _logger.LogInformation("Removed {File}, a download left by an agent that stopped in the middle.", stale);
        }

        return agentLock;
    }

    /// <summary>Follows the metadata records of the bucket (the newest of each name first, then every new one) until an error.</summary>
    private async Task WatchAsync(Action connected, CancellationToken cancellationToken)
    {
        var js = new NatsJSContext(_connection);
        string stream = ShmapObjects.StreamName(_options.Bucket);

        // Fails with 404 while the bucket does not exist yet: the caller retries.
        _ = await js.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Following bucket '{Bucket}' for {Names}.", _options.Bucket, _names.Count == 0 ? "every name" : string.Join(", ", _names));
        connected();
        await foreach (INatsJSMsg<byte[]> message in JetStreamReader.ReadAsync(js, stream, ShmapObjects.MetaSubjects(_options.Bucket), ConsumerConfigDeliverPolicy.LastPerSubject, 256, NatsRawSerializer<byte[]>.Default, cancellationToken).ConfigureAwait(false))
        {
            if (ShmapBucket.TryDescribe(message) is { } remote && (_names.Count == 0 || _names.Contains(remote.Name)))
            {
                Offer(remote);
            }
        }
    }

    /// <summary>Queues the newest version of a name; a download of an older one in progress is cancelled.</summary>
    private void Offer(RemoteMap remote)
    {
        lock (_gate)
        {
            if ((_handled.TryGetValue(remote.Name, out long handled) && remote.FleetVersion <= handled)
                || (_pending.TryGetValue(remote.Name, out RemoteMap? pending) && remote.FleetVersion <= pending.FleetVersion)
                || (_active is { } active && active.Name == remote.Name && remote.FleetVersion <= active.FleetVersion))
            {
                return;
            }

            _pending[remote.Name] = remote;
            if (_active is { } superseded && superseded.Name == remote.Name)
            {
                _activeCancel?.Cancel();
            }

            _queue.Writer.TryWrite(remote.Name);
        }
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        var retryDelays = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        await foreach (string name in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            RemoteMap? remote;
            CancellationTokenSource cancel;
            lock (_gate)
            {
                if (!_pending.Remove(name, out remote))
                {
                    continue;
                }

                _active = remote;
                _activeCancel = cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            }

            try
            {
                ShmapSyncEventArgs handled = await HandleAsync(remote, cancel.Token).ConfigureAwait(false);
                lock (_gate)
                {
                    _handled[name] = remote.FleetVersion;
                }

                retryDelays.Remove(name);
                Report(handled);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                _logger.LogDebug("Download of '{Name}' fleet version {Version} abandoned: a newer version arrived.", name, remote.FleetVersion);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                TimeSpan delay = retryDelays.TryGetValue(name, out TimeSpan last) ? TimeSpan.FromTicks(Math.Min(last.Ticks * 2, _options.MaxRetryDelay.Ticks)) : _options.RetryDelay;
                retryDelays[name] = delay;
                _logger.LogWarning("Could not sync '{Name}' fleet version {Version} ({Error}); trying again in {Delay} ms. The local version keeps serving.", name, remote.FleetVersion, Describe(e), (int)delay.TotalMilliseconds);
                _ = RetryLaterAsync(remote, delay, cancellationToken);
            }
            finally
            {
                lock (_gate)
                {
                    _active = null;
                    _activeCancel = null;
                }

                cancel.Dispose();
            }
        }
    }

    private async Task RetryLaterAsync(RemoteMap remote, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            Offer(remote);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Report(ShmapSyncEventArgs e)
    {
        RemoteMap remote = e.Remote;
        switch (e.Outcome)
        {
            case SyncOutcome.Published:
                _logger.LogInformation(VersionEventId, "Published '{Name}' fleet version {Version} as local version {Local}: {Entries} entries, {Bytes} bytes, {Seconds:F3} s after it was stored.", remote.Name, remote.FleetVersion, e.LocalVersion, remote.Entries, remote.Bytes, e.SinceStored.TotalSeconds);
                break;
            case SyncOutcome.Rejected:
                _logger.LogError(VersionEventId, "Rejected '{Name}' fleet version {Version}: {Reason}. The local version keeps serving.", remote.Name, remote.FleetVersion, e.Reason);
                break;
            default:
                _logger.LogInformation(VersionEventId, "'{Name}' fleet version {Version}: {Outcome} (local version {Local}).", remote.Name, remote.FleetVersion, e.Outcome, e.LocalVersion);
                break;
        }

        VersionHandled?.Invoke(this, e);
    }

    private static ShmapSyncEventArgs Event(SyncOutcome outcome, RemoteMap remote, long localVersion = 0, string? reason = null) =>
        new() { Outcome = outcome, Remote = remote, LocalVersion = localVersion, At = DateTimeOffset.UtcNow, Reason = reason };

    private async Task<ShmapSyncEventArgs> HandleAsync(RemoteMap remote, CancellationToken cancellationToken)
    {
        string name = remote.Name;
        try
        {
            _ = SharedMap.SnapshotPathOf(name, _local);
        }
        catch (ArgumentException e)
        {
            return Event(SyncOutcome.Rejected, remote, reason: $"the name is not a valid Shmap name ({e.Message})");
        }

        if (remote.Deleted)
        {
            if (_options.OnRemoved == RemovedNamePolicy.Delete)
            {
                SharedMap.Delete(name, _local);
                return Event(SyncOutcome.Removed, remote);
            }

            return Event(SyncOutcome.RemovedKept, remote, LocalVersionIfAny(name));
        }

        if (remote.Problem is { } problem)
        {
            return Event(SyncOutcome.Rejected, remote, reason: problem);
        }

        if (remote.FormatVersion != SupportedFormatVersion)
        {
            return Event(SyncOutcome.Rejected, remote, reason: $"snapshot format version {remote.FormatVersion}; this agent publishes version {SupportedFormatVersion} (upgrade the agent)");
        }

        if (LocalMatches(name, remote) is long current)
        {
            return Event(SyncOutcome.AlreadyCurrent, remote, current);
        }

        string temp = Path.Combine(_work, Guid.NewGuid().ToString("N") + TempSuffix);
        long started = Stopwatch.GetTimestamp();
        try
        {
            string? problemWithBytes = await DownloadAsync(remote, temp, cancellationToken).ConfigureAwait(false);
            TimeSpan download = Stopwatch.GetElapsedTime(started);
            if (problemWithBytes is not null)
            {
                return Event(SyncOutcome.Rejected, remote, reason: problemWithBytes);
            }

            cancellationToken.ThrowIfCancellationRequested();
            long version;
            started = Stopwatch.GetTimestamp();
            try
            {
                // Import copies the file beside the name, verifies the copy in full and renames it into place.
                version = SharedMap.Import(name, temp, force: true, _local);
            }
            catch (Exception e) when (e is SnapshotFormatException or SnapshotVersionException)
            {
                return Event(SyncOutcome.Rejected, remote, reason: "the snapshot does not verify: " + e.Message.TrimEnd('.'));
            }

            ShmapSyncEventArgs published = Event(SyncOutcome.Published, remote, version);
            return new ShmapSyncEventArgs
            {
                Outcome = published.Outcome,
                Remote = remote,
                LocalVersion = version,
                At = published.At,
                DownloadTime = download,
                PublishTime = Stopwatch.GetElapsedTime(started),
            };
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Streams the object's chunks into <paramref name="temp"/>; returns why the bytes are refused, or null.</summary>
    private async Task<string?> DownloadAsync(RemoteMap remote, string temp, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long received = 0;
        int chunks = 0;
        byte[] header = new byte[ShmapObjects.HeaderSize];
        var create = new FileStreamOptions
        {
            // O_CREAT | O_EXCL, owner-only from the start, in the agent's private directory.
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            BufferSize = 0,
        };
        await using (var file = new FileStream(temp, create))
        {
            var js = new NatsJSContext(_connection);
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stall.CancelAfter(_options.StallTimeout);

            if (remote.Chunks > 0)
            {
                // A few chunks in flight at a time: the agent's memory does not grow with the map.
                string chunkSubject = ShmapObjects.ChunkSubject(_options.Bucket, remote.Nuid ?? string.Empty);
                try
                {
                    await foreach (INatsJSMsg<NatsMemoryOwner<byte>> message in JetStreamReader.ReadAsync(js, ShmapObjects.StreamName(_options.Bucket), chunkSubject, ConsumerConfigDeliverPolicy.All, 8, NatsDefaultSerializer<NatsMemoryOwner<byte>>.Default, stall.Token).ConfigureAwait(false))
                    {
                        using NatsMemoryOwner<byte> data = message.Data;
                        ReadOnlyMemory<byte> bytes = data.Memory;
                        if (received + bytes.Length > remote.Bytes)
                        {
                            return $"the object has more than the {remote.Bytes} bytes its metadata states";
                        }

                        if (received < ShmapObjects.HeaderSize)
                        {
                            int take = (int)Math.Min(ShmapObjects.HeaderSize - received, bytes.Length);
                            bytes.Span[..take].CopyTo(header.AsSpan((int)received));
                        }

                        hash.AppendData(bytes.Span);
                        await file.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                        received += bytes.Length;
                        chunks++;
                        stall.CancelAfter(_options.StallTimeout);
                        if (chunks == remote.Chunks)
                        {
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The stall timer: reported below with what had arrived.
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (chunks != remote.Chunks || received != remote.Bytes)
            {
                throw new TimeoutException($"the download stopped after {chunks} of {remote.Chunks} chunks ({received} of {remote.Bytes} bytes) and nothing came for {_options.StallTimeout.TotalSeconds:F0} s");
            }
        }

        string digest = ShmapObjects.Digest(hash.GetHashAndReset());
        if (digest != remote.Digest)
        {
            return $"SHA-256 digest mismatch: the metadata states {remote.Digest}, the bytes received hash to {digest}";
        }

        if (ShmapObjects.FileLengthOf(header) != remote.Bytes || ShmapObjects.CountOf(header) != remote.Entries || ShmapObjects.Hex(ShmapObjects.BodyChecksumOf(header)) != remote.Checksum)
        {
            return $"the snapshot's header (length {ShmapObjects.FileLengthOf(header)}, {ShmapObjects.CountOf(header)} entries, checksum {ShmapObjects.Hex(ShmapObjects.BodyChecksumOf(header))}) " +
                $"disagrees with the metadata ({remote.Bytes}, {remote.Entries}, {remote.Checksum})";
        }

        return null;
    }

    /// <summary>The local version when the published snapshot of <paramref name="name"/> has the bytes of <paramref name="remote"/>; else null.</summary>
    private long? LocalMatches(string name, RemoteMap remote)
    {
        try
        {
            using SharedMap map = SharedMap.Open(name, _local);
            return map.ByteLength == remote.Bytes && map.Count == remote.Entries && ShmapObjects.Hex(map.BodyChecksum) == remote.Checksum
                ? map.Version
                : null;
        }
        catch (Exception e) when (e is SharedMapNotFoundException or ShmapException or IOException)
        {
            return null;
        }
    }

    private long LocalVersionIfAny(string name)
    {
        try
        {
            using SharedMap map = SharedMap.Open(name, _local);
            return map.Version;
        }
        catch (Exception e) when (e is SharedMapNotFoundException or ShmapException or IOException)
        {
            return 0;
        }
    }

    private static string Describe(Exception e) => e is NatsJSApiException api && api.Error.Code == 404
        ? "the bucket does not exist (yet): " + api.Error.Description
        : $"{e.GetType().Name}: {e.Message}";
}
