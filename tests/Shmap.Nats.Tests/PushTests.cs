using System.Diagnostics;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.ObjectStore;

namespace Shmap.Nats.Tests;

/// <summary>Pushing: one object per name, the same bytes never sent twice, whatever the source; the CLI verbs.</summary>
[Collection(NatsCollection.Name)]
public sealed class PushTests : IDisposable
{
    private readonly string _root = Fleet.NewRoot();

    public void Dispose() => Fleet.RemoveRoot(_root);

    [NatsFact]
    public async Task Push_SameEntriesFromNameFileOrBuilder_UploadedOnceWithMetadata()
    {
        using NatsServer server = NatsServer.StartSingle(_root);
        await using NatsConnection connection = await Fleet.ConnectAsync(server);
        var pusher = new ShmapPusher(connection);
        var local = new SharedMapOptions { Directory = Path.Combine(_root, "local") };
        SharedMapBuilder builder = Fleet.Versioned(1, 300);
        builder.Share("m", options: local);
        builder.Publish("m", local); // local version 2: other publication fields, same entries

        PushResult first = await pusher.PushAsync("m", local);
        Assert.True(first.Uploaded);
        PushResult again = await pusher.PushAsync("m", builder);
        Assert.False(again.Uploaded);
        Assert.Equal(first.FleetVersion, again.FleetVersion);
        string file = Path.Combine(_root, "m.shmap");
        File.WriteAllBytes(file, builder.Dump());
        Assert.False((await pusher.PushFileAsync("m", file)).Uploaded);

        PushResult changed = await pusher.PushAsync("m", Fleet.Versioned(2, 300));
        Assert.True(changed.Uploaded);
        Assert.True(changed.FleetVersion > first.FleetVersion);

        RemoteMap remote = Assert.Single(await ShmapBucket.ListAsync(connection));
        Assert.Equal(("m", changed.FleetVersion, 301L, changed.Bytes, 1), (remote.Name, remote.FleetVersion, remote.Entries, remote.Bytes, remote.FormatVersion));
        Assert.Equal(changed.Digest, remote.Digest);
        Assert.Null(remote.Problem);
    }

    [NatsFact]
    public async Task Push_CorruptFile_RefusedBeforeUpload()
    {
        using NatsServer server = NatsServer.StartSingle(_root);
        await using NatsConnection connection = await Fleet.ConnectAsync(server);
        byte[] bytes = Fleet.Versioned(1, 100).Dump();
        bytes[^3] ^= 1;
        string file = Path.Combine(_root, "bad.shmap");
        File.WriteAllBytes(file, bytes);
        await Assert.ThrowsAsync<SnapshotFormatException>(() => new ShmapPusher(connection).PushFileAsync("m", file));
    }

    [NatsFact]
    public async Task Cli_PushThenRemoteList_ShowsTheName()
    {
        using NatsServer server = NatsServer.StartSingle(_root);
        string dir = Path.Combine(_root, "cli");
        Fleet.Versioned(7, 10).Share("prices", options: new SharedMapOptions { Directory = dir });

        (int code, string stdout, string stderr) = await RunCliAsync("push", "prices", "--nats", server.Url, "--dir", dir);
        Assert.True(code == 0, stderr);
        Assert.Contains("pushed 'prices' to bucket 'shmap' as fleet version", stdout, StringComparison.Ordinal);
        (code, stdout, _) = await RunCliAsync("push", "prices", "--nats", server.Url, "--dir", dir);
        Assert.Equal(0, code);
        Assert.Contains("'prices' unchanged", stdout, StringComparison.Ordinal);

        (code, stdout, stderr) = await RunCliAsync("remote", "list", "--nats", server.Url, "--json");
        Assert.True(code == 0, stderr);
        JsonElement entry = Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray());
        Assert.Equal("prices", entry.GetProperty("name").GetString());
        Assert.Equal(11, entry.GetProperty("entries").GetInt64());

        (code, _, stderr) = await RunCliAsync("push", "nothing", "--nats", server.Url, "--dir", dir);
        Assert.Equal(1, code);
        Assert.Contains("no shared map named 'nothing'", stderr, StringComparison.Ordinal);
        (code, _, stderr) = await RunCliAsync("remote", "list", "--nats", "nats://127.0.0.1:1");
        Assert.Equal(5, code);
        Assert.Contains("could not connect to NATS", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Out, string Err)> RunCliAsync(params string[] args)
    {
        string? self = Environment.ProcessPath;
        var start = new ProcessStartInfo
        {
            FileName = self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Shmap.Cli.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Fleet.Timeout);
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A name removed from the bucket: kept or deleted locally, as each agent was told.</summary>
[Collection(NatsCollection.Name)]
public sealed class RemovalTests : IDisposable
{
    private readonly string _root = Fleet.NewRoot();

    public void Dispose() => Fleet.RemoveRoot(_root);

    [NatsFact]
    public async Task Sync_NameRemovedFromBucket_KeptOrDeletedAsChosen()
    {
        using NatsServer server = NatsServer.StartSingle(_root);
        await using NatsConnection connection = await Fleet.ConnectAsync(server);
        PushResult pushed = await new ShmapPusher(connection).PushAsync("m", Fleet.Versioned(1, 50));
        var keep = new SharedMapOptions { Directory = Path.Combine(_root, "keep") };
        var delete = new SharedMapOptions { Directory = Path.Combine(_root, "delete") };
        var outcomes = new List<SyncOutcome>();
        using var stop = new CancellationTokenSource();
        Task[] agents =
        [
            Run(new ShmapSyncOptions { Local = keep, OnRemoved = RemovedNamePolicy.Keep }),
            Run(new ShmapSyncOptions { Local = delete, OnRemoved = RemovedNamePolicy.Delete }),
        ];
        await Fleet.WaitUntilAsync(() => SharedMap.Exists("m", keep) && SharedMap.Exists("m", delete), "both hosts to have 'm'");

        INatsObjStore store = await ShmapBucket.OpenAsync(connection, ShmapBucket.DefaultName);
        await store.DeleteAsync("m");
        await Fleet.WaitUntilAsync(() => { lock (outcomes) { return outcomes.Count(o => o is SyncOutcome.Removed or SyncOutcome.RemovedKept) == 2; } }, "both agents to see the removal");
        Assert.True(SharedMap.Exists("m", keep));
        Assert.False(SharedMap.Exists("m", delete));
        RemoteMap removed = Assert.Single(await ShmapBucket.ListAsync(connection));
        Assert.True(removed.Deleted);
        Assert.True(removed.FleetVersion > pushed.FleetVersion);

        await stop.CancelAsync();
        await Task.WhenAll(agents);

        Task Run(ShmapSyncOptions options)
        {
            var agent = new ShmapSyncAgent(connection, options);
            agent.VersionHandled += (_, e) =>
            {
                lock (outcomes)
                {
                    outcomes.Add(e.Outcome);
                }
            };
            return agent.RunAsync(stop.Token);
        }
    }
}
