using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.ObjectStore;
using NATS.Client.ObjectStore.Models;

namespace Shmap.Nats.Tests;

/// <summary>Faults: a NATS node killed, an agent killed mid-download, bad objects, the server away for a while.</summary>
[Collection(NatsCollection.Name)]
public sealed class FaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Fleet.NewRoot();

    public void Dispose() => Fleet.RemoveRoot(_root);

    [NatsFact]
    public async Task Sync_NatsNodeKilledDuringTransfers_ClusterServesAndHostsConverge()
    {
        const int Entries = 40_000; // about 2 MB a version: several chunks in flight when the node dies
        NatsServer[] cluster = NatsServer.StartCluster(_root);
        var hosts = new List<TestHost>();
        try
        {
            await using NatsConnection connection = await Fleet.ConnectAsync(cluster);
            await Fleet.CreateBucketAsync(connection, "fleet", replicas: 3);
            Fleet.StartHosts(_root, cluster, hosts, Entries);

            var pusher = new ShmapPusher(connection, "fleet");
            var clock = Stopwatch.StartNew();
            PushResult last = null!;
            const int Versions = 12;
            for (int v = 1; v <= Versions; v++)
            {
                if (v == 4)
                {
                    // Host 0's agent is connected to node 0: kill it while versions are in flight.
                    await Task.Delay(50);
                    cluster[0].Kill();
                    output.WriteLine($"killed {cluster[0].Name} at {clock.Elapsed.TotalSeconds:F2} s");
                }

                last = await Fleet.PushWithRetryAsync(pusher, "m", Fleet.Versioned(v, Entries));
            }

            output.WriteLine($"pushed {Versions} versions by {clock.Elapsed.TotalSeconds:F2} s; last fleet version {last.FleetVersion}");
            foreach (TestHost host in hosts)
            {
                await Fleet.WaitUntilAsync(() => host.LocalContentVersion("m") == Versions, $"{host.Name} to reach version {Versions}\n{host.AgentLog}", TimeSpan.FromSeconds(90));
                await Fleet.WaitUntilAsync(() => host.FollowerVersions.LastOrDefault() == Versions, $"{host.Name}'s follower at version {Versions}");
            }

            output.WriteLine($"every host at version {Versions} by {clock.Elapsed.TotalSeconds:F2} s");
            foreach (TestHost host in hosts)
            {
                host.StopFollower();
                Assert.True(host.FollowerProblem is null, $"{host.Name}: {host.FollowerProblem}");
                Assert.DoesNotContain(host.Events, e => e.GetProperty("event").GetString() == "rejected");
                Assert.Empty(Directory.GetFiles(host.WorkDirectory, "*.part"));
                output.WriteLine($"{host.Name}: follower saw versions {string.Join(",", host.FollowerVersions)}");
                foreach (string line in host.AgentLog.Split('\n').Where(l => l.StartsWith("err: ", StringComparison.Ordinal)))
                {
                    output.WriteLine("  " + line);
                }
            }
        }
        finally
        {
            foreach (TestHost host in hosts)
            {
                host.Dispose();
            }

            foreach (NatsServer server in cluster)
            {
                server.Dispose();
            }
        }
    }

    [NatsFact]
    public async Task Sync_AgentKilledMidDownload_NoPartialPublishAndCatchesUpOnRestart()
    {
        using NatsServer server = NatsServer.StartSingle(_root);
        await using NatsConnection connection = await Fleet.ConnectAsync(server);
        var pusher = new ShmapPusher(connection);
        using var host = new TestHost(_root, "host", server.Url);
        host.StartAgent();
        PushResult first = await pusher.PushAsync("m", Fleet.Versioned(1, 100));
        await host.WaitForEventAsync(e => e.GetProperty("fleetVersion").GetInt64() == first.FleetVersion, "version 1");

        // About 45 MB: long enough a download to be caught in the middle.
        SharedMapBuilder big = Fleet.Versioned(2, 400_000, valueBytes: 100);
        PushResult second = await pusher.PushAsync("m", big);
        string? part = null;
        await Fleet.WaitUntilAsync(
            () => (part = Directory.GetFiles(host.WorkDirectory, "*.part").FirstOrDefault(f => new FileInfo(f).Length > 0)) is not null,
            "a download in progress");
        long partial = new FileInfo(part!).Length;
        host.KillAgent();
        output.WriteLine($"killed the agent with {partial:N0} of {second.Bytes:N0} bytes downloaded");
        Assert.True(partial < second.Bytes, "the download had finished before the kill");

        // Nothing partial was published: the previous version serves, the temp file is left behind.
        Assert.Equal(1, host.LocalContentVersion("m"));
        Assert.True(File.Exists(part), "the killed agent's temp file");

        host.StartAgent();
        JsonElement published = await host.WaitForEventAsync(e => e.GetProperty("fleetVersion").GetInt64() == second.FleetVersion, "version 2 after the restart");
        Assert.Equal("published", published.GetProperty("event").GetString());
        Assert.Equal(2, host.LocalContentVersion("m"));
        Assert.Empty(Directory.GetFiles(host.WorkDirectory, "*.part"));
        Assert.Equal(big.Dump(), Fleet.Normalized(File.ReadAllBytes(SharedMap.SnapshotPathOf("m", host.Options))));
        Assert.Contains("a download left by an agent that stopped", host.AgentLog, StringComparison.Ordinal);
    }

    [NatsFact]
    public async Task Sync_WrongDigestOrCorruptBytes_RejectedLoggedPreviousKeepsServing()
    {
        using NatsServer server = NatsServer.StartSingle(_root);
        await using NatsConnection connection = await Fleet.ConnectAsync(server);
        var pusher = new ShmapPusher(connection);
        PushResult good = await pusher.PushAsync("m", Fleet.Versioned(1, 500));

        string directory = Path.Combine(_root, "host");
        var logger = new ListLogger();
        var events = new List<ShmapSyncEventArgs>();
        var agent = new ShmapSyncAgent(connection, new ShmapSyncOptions { Local = new SharedMapOptions { Directory = directory }, StallTimeout = TimeSpan.FromSeconds(5) }, logger);
        agent.VersionHandled += (_, e) =>
        {
            lock (events)
            {
                events.Add(e);
            }
        };
        using var stop = new CancellationTokenSource();
        Task run = agent.RunAsync(stop.Token);
        ShmapSyncEventArgs Wait(long version) => events.FirstOrDefault(e => e.Remote.FleetVersion == version)!;
        await Fleet.WaitUntilAsync(() => { lock (events) { return Wait(good.FleetVersion) is not null; } }, "the good version");
        var options = new SharedMapOptions { Directory = directory };

        // 1. Chunks and a metadata record written by hand, the record claiming another digest.
        INatsObjStore store = await ShmapBucket.OpenAsync(connection, ShmapBucket.DefaultName);
        byte[] v2 = Fleet.Versioned(2, 500).Dump();
        long wrongDigest = await PutByHandAsync(store.JetStreamContext, "m", v2, digestOf: [.. v2, 1]);
        await Fleet.WaitUntilAsync(() => { lock (events) { return Wait(wrongDigest) is not null; } }, "the wrong-digest version");
        Assert.Equal(SyncOutcome.Rejected, Wait(wrongDigest).Outcome);
        Assert.Contains("digest mismatch", Wait(wrongDigest).Reason, StringComparison.Ordinal);
        Assert.Equal(1, LocalVersionKey(options));

        // 2. A correct object (digest right) whose snapshot bytes are corrupt: one body byte flipped.
        byte[] corrupt = Fleet.Versioned(3, 500).Dump();
        corrupt[^10] ^= 0x20;
        ObjectMetadata meta = Metadata("m", corrupt);
        await store.PutAsync(meta, new MemoryStream(corrupt));
        long corruptVersion = (await ShmapBucket.GetAsync(store.JetStreamContext, ShmapBucket.DefaultName, "m", default))!.FleetVersion;
        await Fleet.WaitUntilAsync(() => { lock (events) { return Wait(corruptVersion) is not null; } }, "the corrupt version");
        Assert.Equal(SyncOutcome.Rejected, Wait(corruptVersion).Outcome);
        Assert.Contains("does not verify", Wait(corruptVersion).Reason, StringComparison.Ordinal);
        Assert.Equal(1, LocalVersionKey(options));

        // Both were logged as errors; no temp file is left; a good push afterwards is taken.
        Assert.Equal(2, logger.Lines.Count(l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("Rejected 'm'", StringComparison.Ordinal)));
        Assert.Empty(Directory.GetFiles(Path.Combine(directory, ShmapSyncAgent.WorkDirectoryName), "*.part"));
        PushResult fixedPush = await pusher.PushAsync("m", Fleet.Versioned(4, 500));
        await Fleet.WaitUntilAsync(() => { lock (events) { return Wait(fixedPush.FleetVersion) is not null; } }, "the fixed version");
        Assert.Equal(SyncOutcome.Published, Wait(fixedPush.FleetVersion).Outcome);
        Assert.Equal(4, LocalVersionKey(options));
        foreach (string line in logger.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)))
        {
            output.WriteLine(line);
        }

        await stop.CancelAsync();
        await run;
    }

    [NatsFact]
    public async Task Sync_ServerGoneThenBack_AgentReconnectsAndCatchesUp()
    {
        NatsServer server = NatsServer.StartSingle(_root);
        try
        {
            using var host = new TestHost(_root, "host", server.Url);
            host.StartAgent();
            host.StartFollower("m", 1_000);
            await using (NatsConnection connection = await Fleet.ConnectAsync(server))
            {
                PushResult first = await new ShmapPusher(connection).PushAsync("m", Fleet.Versioned(1, 1_000));
                await host.WaitForEventAsync(e => e.GetProperty("fleetVersion").GetInt64() == first.FleetVersion, "version 1");
            }

            server.Kill();
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.Equal(1, host.LocalContentVersion("m"));
            server.Start();
            var clock = Stopwatch.StartNew();
            await using (NatsConnection connection = await Fleet.ConnectAsync(server))
            {
                PushResult second = await new ShmapPusher(connection).PushAsync("m", Fleet.Versioned(2, 1_000));
                await host.WaitForEventAsync(e => e.GetProperty("fleetVersion").GetInt64() == second.FleetVersion && e.GetProperty("event").GetString() == "published", "version 2 after the restart");
            }

            output.WriteLine($"version 2 published locally {clock.Elapsed.TotalSeconds:F2} s after the server came back");
            await Fleet.WaitUntilAsync(() => host.FollowerVersions.LastOrDefault() == 2, "the follower at version 2");
            host.StopFollower();
            Assert.True(host.FollowerProblem is null, host.FollowerProblem);
            Assert.Contains("warning", host.AgentLog, StringComparison.Ordinal);
        }
        finally
        {
            server.Dispose();
        }
    }

    private static int LocalVersionKey(SharedMapOptions options)
    {
        using SharedMap map = SharedMap.Open("m", options);
        return int.Parse(map.Get("version")!, CultureInfo.InvariantCulture);
    }

    private static ObjectMetadata Metadata(string name, byte[] snapshot) => new()
    {
        Name = name,
        Metadata = new Dictionary<string, string>
        {
            ["shmap-format"] = "1",
            ["shmap-entries"] = BitConverter.ToUInt64(snapshot, 24).ToString(CultureInfo.InvariantCulture),
            ["shmap-bytes"] = snapshot.Length.ToString(CultureInfo.InvariantCulture),
            ["shmap-checksum"] = BitConverter.ToUInt64(snapshot, 112).ToString("x16", CultureInfo.InvariantCulture),
            ["shmap-pushed-at"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        },
    };

    /// <summary>Writes an object as the Object Store does (chunks, then the metadata record with a rollup), with the digest of other bytes; returns its fleet version.</summary>
    private static async Task<long> PutByHandAsync(INatsJSContext js, string name, byte[] bytes, byte[] digestOf)
    {
        string nuid = Guid.NewGuid().ToString("N");
        (await js.PublishAsync($"$O.shmap.C.{nuid}", bytes)).EnsureSuccess();
        ObjectMetadata meta = Metadata(name, bytes);
        meta.Bucket = "shmap";
        meta.Nuid = nuid;
        meta.Size = (ulong)bytes.Length;
        meta.Chunks = 1;
        meta.Digest = "SHA-256=" + Convert.ToBase64String(SHA256.HashData(digestOf)).Replace('+', '-').Replace('/', '_');
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(meta);
        string subject = "$O.shmap.M." + Convert.ToBase64String(Encoding.UTF8.GetBytes(name)).Replace('+', '-').Replace('/', '_');
        NATS.Client.JetStream.Models.PubAckResponse ack = await js.PublishAsync(subject, json, NatsRawSerializer<byte[]>.Default, headers: new NatsHeaders { ["Nats-Rollup"] = "sub" });
        ack.EnsureSuccess();
        return (long)ack.Seq;
    }

    private sealed class ListLogger : ILogger
    {
        private readonly List<string> _lines = [];

        public string[] Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add($"{logLevel}: {formatter(state, exception)}");
            }
        }
    }
}
