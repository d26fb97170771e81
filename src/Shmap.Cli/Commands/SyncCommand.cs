using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Shmap.Nats;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap sync [NAME...] --nats URL</c>: the per-host agent; a line per version received, until stopped.</summary>
internal static class SyncCommand
{
    public static Command Create(CliApp app)
    {
        var names = new Argument<string[]>("NAME") { Description = "Names to follow (default: every name in the bucket).", Arity = ArgumentArity.ZeroOrMore };
        var onRemoved = new Option<string>("--on-removed") { Description = "When a name is removed from the bucket: keep serving the last version, or delete it here too.", HelpName = "keep|delete", DefaultValueFactory = _ => "keep" };
        onRemoved.AcceptOnlyFromAmong("keep", "delete");
        var stall = new Option<double>("--stall-timeout") { Description = "Abandon (and retry) a download that receives nothing for this many seconds.", HelpName = "SECONDS", DefaultValueFactory = _ => 15 };
        Option<bool> json = Common.JsonOption("Print each version handled as a JSON line.");
        var command = new Command(
            "sync",
            "Follow a NATS JetStream bucket and publish each new version of its maps here, verified, by the atomic protocol (local readers follow at once). Catches up first; survives server restarts. Runs until Ctrl+C.")
        {
            names,
            onRemoved,
            stall,
            json,
        };
        NatsOptions nats = NatsOptions.AddTo(command);
        app.SetAction(
            command,
            ["shmap sync --nats nats://nats1:4222,nats://nats2:4222,nats://nats3:4222", "shmap sync prices users --nats nats://nats1:4222 --on-removed delete", "shmap sync --nats nats://nats1:4222 --json | jq .seconds"],
            (context, parseResult) => RunAsync(
                context,
                nats.ToNatsOpts(parseResult, $"shmap sync@{Environment.MachineName}", retryOnInitialConnect: true),
                new ShmapSyncOptions
                {
                    Bucket = parseResult.GetValue(nats.Bucket)!,
                    Names = parseResult.GetValue(names) ?? [],
                    OnRemoved = parseResult.GetValue(onRemoved) == "delete" ? RemovedNamePolicy.Delete : RemovedNamePolicy.Keep,
                    Local = context.Options,
                    StallTimeout = TimeSpan.FromSeconds(Math.Max(0.1, parseResult.GetValue(stall))),
                },
                parseResult.GetValue(json)));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, NatsOpts opts, ShmapSyncOptions options, bool json)
    {
        foreach (string name in options.Names)
        {
            _ = SharedMap.SnapshotPathOf(name, context.Options);
        }

        await using var connection = new NatsConnection(opts);
        var agent = new ShmapSyncAgent(connection, options, new LineLogger(context.Error));
        agent.VersionHandled += (_, e) => Print(context, json, e);
        context.Error.WriteLine($"syncing {(options.Names.Count == 0 ? "every name" : string.Join(", ", options.Names.Select(n => $"'{n}'")))} of bucket '{options.Bucket}' at {opts.Url} into {context.Directory}. Ctrl+C to stop.");
        try
        {
            await agent.RunAsync(context.Cancellation);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(ExitCodes.IOError, e.Message, e);
        }

        // Ctrl+C is how sync is meant to end.
        return ExitCodes.Ok;
    }

    private static void Print(CliContext context, bool json, ShmapSyncEventArgs e)
    {
        RemoteMap remote = e.Remote;
        double? sincePush = e.SincePush?.TotalSeconds;
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                @event = e.Outcome switch
                {
                    SyncOutcome.Published => "published",
                    SyncOutcome.AlreadyCurrent => "current",
                    SyncOutcome.Rejected => "rejected",
                    SyncOutcome.Removed => "removed",
                    _ => "removed-kept",
                },
                name = remote.Name,
                fleetVersion = remote.FleetVersion,
                localVersion = e.LocalVersion,
                entries = remote.Entries,
                bytes = remote.Bytes,
                seconds = sincePush is { } s ? Math.Round(s, 3) : (double?)null,
                secondsSinceStored = Math.Round(e.SinceStored.TotalSeconds, 3),
                downloadSeconds = Math.Round(e.DownloadTime.TotalSeconds, 3),
                publishSeconds = Math.Round(e.PublishTime.TotalSeconds, 3),
                reason = e.Reason,
            }));
        }
        else
        {
            string lag = sincePush is { } s ? $", {s.ToString("F3", CultureInfo.InvariantCulture)} s from push to local publish" : string.Empty;
            context.Out.WriteLine(e.Outcome switch
            {
                SyncOutcome.Published => $"{Display.Time(e.At)}  '{remote.Name}' fleet version {remote.FleetVersion} → local version {e.LocalVersion}: {Display.Entries(remote.Entries)}, {Display.Bytes(remote.Bytes)}{lag}",
                SyncOutcome.AlreadyCurrent => $"{Display.Time(e.At)}  '{remote.Name}' fleet version {remote.FleetVersion} already here as local version {e.LocalVersion}",
                SyncOutcome.Rejected => $"{Display.Time(e.At)}  '{remote.Name}' fleet version {remote.FleetVersion} rejected: {e.Reason}; local version kept",
                SyncOutcome.Removed => $"{Display.Time(e.At)}  '{remote.Name}' removed from the bucket; deleted here",
                _ => $"{Display.Time(e.At)}  '{remote.Name}' removed from the bucket; local version {e.LocalVersion} kept",
            });
        }

        context.Out.Flush();
    }

    /// <summary>The agent's log as <c>shmap sync: …</c> lines on stderr: what it follows, retries, rejections, stale downloads removed.</summary>
    private sealed class LineLogger(TextWriter error) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // Each version handled is already a line on stdout; rejections are said on stderr too.
            if (!IsEnabled(logLevel) || (eventId == ShmapSyncAgent.VersionEventId && logLevel < LogLevel.Error))
            {
                return;
            }

            string level = logLevel switch
            {
                LogLevel.Warning => "warning: ",
                >= LogLevel.Error => "error: ",
                _ => string.Empty,
            };
            lock (error)
            {
                error.WriteLine($"shmap sync: {Display.Time(DateTimeOffset.UtcNow)} {level}{formatter(state, exception)}");
            }
        }
    }
}
