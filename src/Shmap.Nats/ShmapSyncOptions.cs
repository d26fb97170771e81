namespace Shmap.Nats;

/// <summary>What a sync agent does when a name it follows is removed from the bucket.</summary>
public enum RemovedNamePolicy
{
    /// <summary>Keep serving the last version locally (the default: a removal is not a new map).</summary>
    Keep,

    /// <summary>Delete the name locally too (<see cref="SharedMap.Delete"/>; open readers keep their version).</summary>
    Delete,
}

/// <summary>Options of a <see cref="ShmapSyncAgent"/>.</summary>
public sealed record ShmapSyncOptions
{
    /// <summary>The bucket to follow.</summary>
    public string Bucket { get; init; } = ShmapBucket.DefaultName;

    /// <summary>The names to follow; empty for every name the bucket holds.</summary>
    public IReadOnlyCollection<string> Names { get; init; } = [];

    /// <summary>What to do with a name removed from the bucket.</summary>
    public RemovedNamePolicy OnRemoved { get; init; } = RemovedNamePolicy.Keep;

    /// <summary>The local directory and permissions the agent publishes with (null: <see cref="SharedMapOptions.Default"/>).</summary>
    public SharedMapOptions? Local { get; init; }

    /// <summary>
    /// A download that receives nothing for this long is abandoned and tried again (the server may
    /// be gone, or the object replaced meanwhile). 15 s by default.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>First wait before trying again after an error (doubling up to <see cref="MaxRetryDelay"/>).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between tries.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>What the agent did with one version of a name.</summary>
public enum SyncOutcome
{
    /// <summary>Downloaded, verified and published locally.</summary>
    Published,

    /// <summary>The local map already had these bytes (after a restart, or pushed unchanged): nothing downloaded.</summary>
    AlreadyCurrent,

    /// <summary>Refused (digest, snapshot check, metadata): the previous local version keeps serving.</summary>
    Rejected,

    /// <summary>Removed from the bucket and deleted locally.</summary>
    Removed,

    /// <summary>Removed from the bucket and kept locally (<see cref="RemovedNamePolicy.Keep"/>).</summary>
    RemovedKept,
}

/// <summary>One version the agent handled.</summary>
public sealed class ShmapSyncEventArgs : EventArgs
{
    /// <summary>What happened.</summary>
    public required SyncOutcome Outcome { get; init; }

    /// <summary>The version as the bucket described it.</summary>
    public required RemoteMap Remote { get; init; }

    /// <summary>The local version serving it (0 when none: rejected or removed).</summary>
    public long LocalVersion { get; init; }

    /// <summary>When the agent finished with it.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>From the start of the push (pusher's clock) to <see cref="At"/>, when known.</summary>
    public TimeSpan? SincePush => Remote.PushedAt is { } pushed ? At - pushed : null;

    /// <summary>From the moment the bucket stored the version (server clock) to <see cref="At"/>.</summary>
    public TimeSpan SinceStored => At - Remote.StoredAt;

    /// <summary>How long the download took (streaming to the temporary file, hashing, checks).</summary>
    public TimeSpan DownloadTime { get; init; }

    /// <summary>How long the local publish took (<see cref="SharedMap.Import"/>: copy, full verification, rename).</summary>
    public TimeSpan PublishTime { get; init; }

    /// <summary>Why it was rejected, or null.</summary>
    public string? Reason { get; init; }
}
