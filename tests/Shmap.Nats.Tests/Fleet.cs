using System.Buffers.Binary;
using System.IO.Hashing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.ObjectStore;

namespace Shmap.Nats.Tests;

/// <summary>What the fleet tests share: a temporary root, connections, maps whose content says their version.</summary>
public static class Fleet
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>A private directory on tmpfs (stores, host directories), removed by the caller.</summary>
    public static string NewRoot()
    {
        string root = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "shmap-nats-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return root;
    }

    public static void RemoveRoot(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static async Task<NatsConnection> ConnectAsync(params NatsServer[] servers)
    {
        var connection = new NatsConnection(NatsOpts.Default with
        {
            Url = string.Join(',', servers.Select(s => s.Url)),
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
            ReconnectWaitMax = TimeSpan.FromSeconds(1),
            CommandTimeout = TimeSpan.FromSeconds(10),
        });
        await connection.ConnectAsync();
        return connection;
    }

    /// <summary>
    /// Three hosts on <paramref name="cluster"/>, each with its sync agent (preferring a different
    /// node) and a follower of map "m" of <paramref name="entries"/> entries, added to
    /// <paramref name="hosts"/> as they start (so the caller disposes those that did).
    /// </summary>
    public static void StartHosts(string root, NatsServer[] cluster, List<TestHost> hosts, int entries)
    {
        for (int i = 0; i < 3; i++)
        {
            string urls = string.Join(',', cluster.Skip(i).Concat(cluster.Take(i)).Select(s => s.Url));
            var host = new TestHost(root, "host" + i.ToString(CultureInfo.InvariantCulture), urls, "--bucket", "fleet");
            hosts.Add(host);
            host.StartAgent();
            host.StartFollower("m", entries);
        }
    }

    /// <summary>Creates the bucket, retrying while a new cluster elects its JetStream leader.</summary>
    public static async Task<INatsObjStore> CreateBucketAsync(NatsConnection connection, string bucket, int replicas)
    {
        DateTime deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            try
            {
                return await ShmapBucket.OpenOrCreateAsync(connection, bucket, replicas);
            }
            catch (Exception e) when (e is NatsJSException or NatsException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>Pushes, retrying a push that failed because a node went away under it.</summary>
    public static async Task<PushResult> PushWithRetryAsync(ShmapPusher pusher, string name, SharedMapBuilder builder)
    {
        DateTime deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                return await pusher.PushAsync(name, builder, timeout.Token);
            }
            catch (Exception e) when (e is NatsJSException or NatsException or OperationCanceledException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>Version <paramref name="version"/> of a test map: "version" → v, and each k_i → "v:i" (plus padding).</summary>
    public static SharedMapBuilder Versioned(int version, int entries, int valueBytes = 8)
    {
        var builder = new SharedMapBuilder();
        builder.Set("version", version.ToString(CultureInfo.InvariantCulture));
        string pad = new('x', Math.Max(0, valueBytes - 8));
        for (int i = 0; i < entries; i++)
        {
            builder.Set($"k{i:D7}", $"{version}:{i}:{pad}");
        }

        return builder;
    }

    /// <summary>Why <paramref name="map"/> is not a whole version of <see cref="Versioned"/>, or null; its version in <paramref name="version"/>.</summary>
    public static string? CheckConsistent(SharedMap map, int entries, out int version)
    {
        version = -1;
        if (map.Get("version") is not { } text || !int.TryParse(text, CultureInfo.InvariantCulture, out version))
        {
            return "no version key";
        }

        if (map.Count != entries + 1)
        {
            return $"version {version} has {map.Count} entries, expected {entries + 1}";
        }

        string prefix = version.ToString(CultureInfo.InvariantCulture) + ":";
        int step = Math.Max(1, entries / 64);
        for (int i = 0; i < entries; i += step)
        {
            string? value = map.Get($"k{i:D7}");
            if (value is null || !value.StartsWith(prefix, StringComparison.Ordinal))
            {
                return $"version {version}: k{i:D7} = '{value}'";
            }
        }

        return null;
    }

    /// <summary>A snapshot's bytes with the publication fields zeroed, as pushed (header offsets 96–111, checksum redone).</summary>
    public static byte[] Normalized(byte[] snapshot)
    {
        byte[] copy = (byte[])snapshot.Clone();
        copy.AsSpan(96, 16).Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(120), XxHash3.HashToUInt64(copy.AsSpan(0, 120)));
        return copy;
    }

    /// <summary>Polls until <paramref name="condition"/> holds.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }

            await Task.Delay(20);
        }
    }
}
