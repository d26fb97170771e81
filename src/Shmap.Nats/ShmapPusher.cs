using System.IO.Pipelines;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.ObjectStore;
using NATS.Client.ObjectStore.Models;

namespace Shmap.Nats;

/// <summary>What a push did.</summary>
/// <param name="Name">The map name in the bucket.</param>
/// <param name="FleetVersion">The fleet version the bucket now holds for the name (the JetStream sequence of its metadata record).</param>
/// <param name="Uploaded">False when the bucket already held the same bytes, so nothing was sent.</param>
/// <param name="Superseded">True when another pusher stored a newer version of the name between this push's upload and its read-back; <paramref name="FleetVersion"/> is then that newer one.</param>
/// <param name="Entries">Number of entries.</param>
/// <param name="Bytes">Snapshot length in bytes.</param>
/// <param name="Digest">SHA-256 of the object (<c>SHA-256=…</c>).</param>
/// <param name="Elapsed">How long the push took, hashing included.</param>
public sealed record PushResult(string Name, long FleetVersion, bool Uploaded, bool Superseded, long Entries, long Bytes, string Digest, TimeSpan Elapsed);

/// <summary>
/// Pushes snapshots to a JetStream Object Store bucket, one object per map name (README, "Many
/// hosts"). The object's bytes are the snapshot with its publication fields zeroed, so the same
/// entries give the same object whoever pushes them; a push of the bytes the bucket already holds
/// uploads nothing. Receivers see a new version only once it is completely stored: the Object
/// Store writes the chunks first and the metadata record last.
/// </summary>
/// <remarks>
/// Two concurrent pushers of one name both store their object; the one whose metadata record the
/// stream's leader stores last has the higher fleet version and is the one receivers end at.
/// Receivers may skip the other. Nothing is lost or torn: each version is a whole object.
/// </remarks>
/// <param name="connection">An open NATS connection (credentials and TLS are the connection's options).</param>
/// <param name="bucket">The bucket; created with <paramref name="replicas"/> replicas when missing.</param>
/// <param name="replicas">Replicas of a bucket this pusher creates (3 across a 3-node cluster); ignored when it exists.</param>
public sealed class ShmapPusher(INatsConnection connection, string bucket = ShmapBucket.DefaultName, int replicas = 1)
{
    /// <summary>The bucket pushed to.</summary>
    public string Bucket { get; } = bucket;

    /// <summary>Pushes the map published locally under <paramref name="name"/> (its current version) as the object <paramref name="name"/>.</summary>
    /// <exception cref="SharedMapNotFoundException">Nothing is published under the name.</exception>
    public async Task<PushResult> PushAsync(string name, SharedMapOptions? options = null, CancellationToken cancellationToken = default)
    {
        using SharedMap map = SharedMap.Open(name, options);
        string source = $"{Environment.MachineName}:{name} v{map.Version}";
        return await PushCoreAsync(name, map.WriteTo, source, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pushes a snapshot file (from <c>shmap dump</c> or <see cref="SharedMapBuilder.WriteTo"/>) as the object <paramref name="name"/>, after verifying all of it.</summary>
    /// <exception cref="SnapshotFormatException">The file is not a valid snapshot; nothing is pushed.</exception>
    public async Task<PushResult> PushFileAsync(string name, string path, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        using SharedMap map = SharedMap.OpenFile(path);
        map.Verify();
        string source = $"{Environment.MachineName}:{Path.GetFullPath(path)}";
        return await PushCoreAsync(name, map.WriteTo, source, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pushes what <paramref name="builder"/> holds as the object <paramref name="name"/> (nothing is published locally).</summary>
    public async Task<PushResult> PushAsync(string name, SharedMapBuilder builder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ValidateName(name);
        byte[] bytes = builder.Dump();
        return await PushCoreAsync(name, stream => stream.Write(bytes), $"{Environment.MachineName}:builder", cancellationToken).ConfigureAwait(false);
    }

    private async Task<PushResult> PushCoreAsync(string name, Action<Stream> write, string source, CancellationToken cancellationToken)
    {
        long started = Environment.TickCount64;
        DateTimeOffset pushedAt = DateTimeOffset.UtcNow;

        // Pass 1: the digest of the normalized bytes, to compare with what the bucket holds.
        byte[] header = new byte[ShmapObjects.HeaderSize];
        string digest;
        using (var hash = new ShmapObjects.HashSink())
        {
            var normalizing = new ShmapObjects.NormalizingStream(hash);
            write(normalizing);
            normalizing.Header.CopyTo(header);
            digest = ShmapObjects.Digest(hash.Finish());
        }

        long entries = ShmapObjects.CountOf(header);
        long bytes = ShmapObjects.FileLengthOf(header);
        INatsObjStore store = await ShmapBucket.OpenOrCreateAsync(connection, Bucket, replicas, cancellationToken).ConfigureAwait(false);
        INatsJSContext js = store.JetStreamContext;
        RemoteMap? current = await ShmapBucket.GetAsync(js, Bucket, name, cancellationToken).ConfigureAwait(false);
        if (current is { Deleted: false } && current.Digest == digest)
        {
            return new PushResult(name, current.FleetVersion, Uploaded: false, Superseded: false, entries, bytes, digest, Elapsed(started));
        }

        var meta = new ObjectMetadata
        {
            Name = name,
            Description = $"Shmap snapshot: {entries} entries, {bytes} bytes",
            Metadata = new Dictionary<string, string>
            {
                [ShmapObjects.FormatKey] = ShmapObjects.FormatVersionOf(header).ToString(CultureInfo.InvariantCulture),
                [ShmapObjects.EntriesKey] = entries.ToString(CultureInfo.InvariantCulture),
                [ShmapObjects.BytesKey] = bytes.ToString(CultureInfo.InvariantCulture),
                [ShmapObjects.ChecksumKey] = ShmapObjects.Hex(ShmapObjects.BodyChecksumOf(header)),
                [ShmapObjects.PushedAtKey] = pushedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                [ShmapObjects.SourceKey] = source,
            },
            Options = new MetaDataOptions { MaxChunkSize = ShmapObjects.ChunkSize },
        };

        // Pass 2: the bytes again, through a bounded pipe into the Object Store (never the whole
        // snapshot in memory). The writer runs on its own thread: WriteTo is synchronous.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4 * ShmapObjects.ChunkSize, resumeWriterThreshold: 2 * ShmapObjects.ChunkSize, useSynchronizationContext: false));
        Task producer = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    using Stream destination = pipe.Writer.AsStream(leaveOpen: true);
                    write(new ShmapObjects.NormalizingStream(destination));
                    destination.Flush();
                    pipe.Writer.Complete();
                }
                catch (Exception e)
                {
                    pipe.Writer.Complete(e);
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        ObjectMetadata stored;
        try
        {
            stored = await store.PutAsync(meta, pipe.Reader.AsStream(), leaveOpen: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
        }

        if (stored.Digest != digest)
        {
            throw new InvalidOperationException($"The snapshot of '{name}' changed while it was pushed (digest {digest} first, {stored.Digest} uploaded); push again.");
        }

        RemoteMap after = await ShmapBucket.GetAsync(js, Bucket, name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The object '{name}' is not in bucket '{Bucket}' after it was stored.");
        return new PushResult(name, after.FleetVersion, Uploaded: true, Superseded: after.Nuid != stored.Nuid, entries, bytes, digest, Elapsed(started));
    }

    private static TimeSpan Elapsed(long started) => TimeSpan.FromMilliseconds(Environment.TickCount64 - started);

    /// <summary>Names in the bucket are the local names the agents publish, so they obey the same rules.</summary>
    private static void ValidateName(string name) => _ = SharedMap.SnapshotPathOf(name, new SharedMapOptions { Directory = "/" });
}
