using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.ObjectStore;
using NATS.Client.ObjectStore.Models;

namespace Shmap.Nats;

/// <summary>The JetStream Object Store bucket that holds a fleet's maps: opening, creating, listing.</summary>
public static class ShmapBucket
{
    /// <summary>The bucket used when none is named.</summary>
    public const string DefaultName = "shmap";

    /// <summary>Opens <paramref name="bucket"/>, creating it (file storage, <paramref name="replicas"/> replicas) when it does not exist.</summary>
    public static async Task<INatsObjStore> OpenOrCreateAsync(INatsConnection connection, string bucket, int replicas = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var objects = new NatsObjContext(new NatsJSContext((NatsConnection)connection));
        try
        {
            return await objects.GetObjectStoreAsync(bucket, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return await objects.CreateObjectStoreAsync(new NatsObjConfig(bucket) { NumberOfReplicas = replicas, Storage = NatsObjStorageType.File }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Opens an existing bucket.</summary>
    /// <exception cref="NatsJSApiException">It does not exist (code 404).</exception>
    public static async Task<INatsObjStore> OpenAsync(INatsConnection connection, string bucket, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var objects = new NatsObjContext(new NatsJSContext((NatsConnection)connection));
        return await objects.GetObjectStoreAsync(bucket, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every name the bucket holds (removed names too, flagged), newest version each, in ordinal order.</summary>
    public static async Task<IReadOnlyList<RemoteMap>> ListAsync(INatsConnection connection, string bucket = DefaultName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var js = new NatsJSContext((NatsConnection)connection);
        INatsJSStream stream = await js.GetStreamAsync(ShmapObjects.StreamName(bucket), cancellationToken: cancellationToken).ConfigureAwait(false);
        var maps = new List<RemoteMap>();
        if (stream.Info.State.Messages == 0)
        {
            return maps;
        }

        // The last metadata record of each name, read until none is pending.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await foreach (INatsJSMsg<byte[]> message in JetStreamReader.ReadAsync(js, ShmapObjects.StreamName(bucket), ShmapObjects.MetaSubjects(bucket), ConsumerConfigDeliverPolicy.LastPerSubject, 256, NatsRawSerializer<byte[]>.Default, timeout.Token).ConfigureAwait(false))
            {
                if (TryDescribe(message) is { } map)
                {
                    maps.Add(map);
                }

                if (message.Metadata?.NumPending == 0)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Only chunks (an upload under way) and no metadata record yet.
        }

        maps.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return maps;
    }

    /// <summary>A metadata record as a <see cref="RemoteMap"/>, or null when it is not one.</summary>
    internal static RemoteMap? TryDescribe(INatsJSMsg<byte[]> message)
    {
        if (message.Metadata is not { } metadata || message.Data is not { Length: > 0 } data)
        {
            return null;
        }

        ObjectMetadata? info;
        try
        {
            info = JsonSerializer.Deserialize<ObjectMetadata>(data);
        }
        catch (JsonException)
        {
            return null;
        }

        return info is null || string.IsNullOrEmpty(info.Name) ? null : ShmapObjects.Describe(info, metadata.Sequence.Stream, metadata.Timestamp);
    }

    /// <summary>The newest metadata record of <paramref name="name"/>, or null when the bucket never held it.</summary>
    internal static async Task<RemoteMap?> GetAsync(INatsJSContext js, string bucket, string name, CancellationToken cancellationToken)
    {
        INatsJSStream stream = await js.GetStreamAsync(ShmapObjects.StreamName(bucket), cancellationToken: cancellationToken).ConfigureAwait(false);
        StreamMsgGetResponse response;
        try
        {
            response = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = ShmapObjects.MetaSubject(bucket, name) }, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return null;
        }

        ObjectMetadata? info = JsonSerializer.Deserialize<ObjectMetadata>(response.Message.Data.Span);
        return info is null ? null : ShmapObjects.Describe(info, response.Message.Seq, response.Message.Time);
    }
}
