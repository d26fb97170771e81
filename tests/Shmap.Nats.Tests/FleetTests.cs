using System.Diagnostics;
using System.Text.Json;
using NATS.Client.Core;

namespace Shmap.Nats.Tests;

/// <summary>Three hosts, a 3-node cluster, a bucket of 3 replicas: versions pushed in a row reach every host whole.</summary>
[Collection(NatsCollection.Name)]
public sealed class FleetTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Fleet.NewRoot();

    public void Dispose() => Fleet.RemoveRoot(_root);

    [NatsFact]
    public async Task Sync_ThreeHostsFiftyVersions_EveryHostEndsAtNewestWhole()
    {
        const int Entries = 2_000;
        const int Versions = 50;
        NatsServer[] cluster = NatsServer.StartCluster(_root);
        var hosts = new List<TestHost>();
        try
        {
            await using NatsConnection connection = await Fleet.ConnectAsync(cluster);
            await Fleet.CreateBucketAsync(connection, "fleet", replicas: 3);
            Fleet.StartHosts(_root, cluster, hosts, Entries);

            var pusher = new ShmapPusher(connection, "fleet");
            var pushed = new Dictionary<long, byte[]>();
            var clock = Stopwatch.StartNew();
            PushResult last = null!;
            for (int v = 1; v <= Versions; v++)
            {
                SharedMapBuilder builder = Fleet.Versioned(v, Entries);
                last = await pusher.PushAsync("m", builder);
                Assert.True(last.Uploaded);
                pushed[last.FleetVersion] = builder.Dump();
            }

            output.WriteLine($"pushed {Versions} versions in {clock.Elapsed.TotalSeconds:F2} s; last fleet version {last.FleetVersion}");
            foreach (TestHost host in hosts)
            {
                await host.WaitForEventAsync(e => e.GetProperty("fleetVersion").GetInt64() == last.FleetVersion && e.GetProperty("event").GetString() is "published" or "current", $"fleet version {last.FleetVersion}");
                await Fleet.WaitUntilAsync(() => host.FollowerVersions.LastOrDefault() == Versions, $"{host.Name}'s follower to reach version {Versions}");
            }

            output.WriteLine($"every host at the newest {clock.Elapsed.TotalSeconds:F2} s after the first push");
            foreach (TestHost host in hosts)
            {
                host.StopFollower();
                Assert.True(host.FollowerProblem is null, $"{host.Name}: {host.FollowerProblem}\n{host.AgentLog}");
                Assert.True(host.FollowerVersions.SequenceEqual(host.FollowerVersions.Order()), string.Join(",", host.FollowerVersions));

                // What each host published is what was pushed, byte for byte (publication fields aside).
                byte[] local = File.ReadAllBytes(SharedMap.SnapshotPathOf("m", host.Options));
                Assert.Equal(pushed[last.FleetVersion], Fleet.Normalized(local));
                JsonElement[] published = host.Events.Where(e => e.GetProperty("event").GetString() == "published").ToArray();
                Assert.All(published, e => Assert.True(pushed.ContainsKey(e.GetProperty("fleetVersion").GetInt64())));
                Assert.Empty(Directory.GetFiles(host.WorkDirectory, "*.part"));
                output.WriteLine($"{host.Name}: {published.Length} versions published locally, follower saw {host.FollowerVersions.Count} versions in {host.FollowerReads} reads");
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
}

/// <summary>The NATS tests run one at a time: each starts servers and agent processes on a 2-CPU machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NatsCollection
{
    public const string Name = "nats";
}
