using System.CommandLine;
using System.Text.Json;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap watch NAME</c>: a line per new version, until Ctrl+C.</summary>
internal static class WatchCommand
{
    /// <summary>How often to look whether the name was deleted (one read of a mapped word; new versions wake us at once).</summary>
    private static readonly TimeSpan s_deletedCheck = TimeSpan.FromMilliseconds(500);

    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument();
        var count = new Option<int?>("--count", "-n") { Description = "Exit after N new versions.", HelpName = "N" };
        Option<bool> json = Common.JsonOption("Print each event as a JSON line.");
        var command = new Command(
            "watch",
            "Print a line each time a new version of NAME is published (woken by the library, not by polling the file). Ctrl+C ends it.")
        {
            name,
            count,
            json,
        };
        app.SetAction(
            command,
            ["shmap watch cities", "shmap watch cities --count 1 && echo 'cities changed'", "shmap watch cities --json | jq .version"],
            (context, parseResult) => RunAsync(context, parseResult.GetRequiredValue(name), parseResult.GetValue(count), parseResult.GetValue(json)));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string name, int? count, bool json)
    {
        using LiveSharedMap live = SharedMap.Follow(name, context.Options);
        long version;
        using (SharedMap first = live.Snapshot())
        {
            version = first.Version;
            context.Error.WriteLine($"watching '{name}' in {context.Directory}: version {version}, {Display.Entries(first.Count)}. Ctrl+C to stop.");
        }

        int seen = 0;
        bool deleted = false;
        try
        {
            while (count is null || seen < count)
            {
                Task<long> next = live.WaitForNewVersionAsync(context.Cancellation);
                while (!next.IsCompleted)
                {
                    await Task.WhenAny(next, Task.Delay(s_deletedCheck, context.Cancellation)).ConfigureAwait(false);
                    context.Cancellation.ThrowIfCancellationRequested();
                    if (live.IsDeleted != deleted)
                    {
                        deleted = !deleted;
                        if (deleted)
                        {
                            Print(context, json, "deleted", name, null);
                        }
                    }
                }

                await next.ConfigureAwait(false);
                deleted = false;
                using SharedMap snapshot = live.Snapshot();
                Print(context, json, "published", name, snapshot, snapshot.Version - version - 1);
                version = snapshot.Version;
                seen++;
            }
        }
        catch (OperationCanceledException) when (context.Cancellation.IsCancellationRequested)
        {
            // Ctrl+C is how watch is meant to end.
        }

        return ExitCodes.Ok;
    }

    private static void Print(CliContext context, bool json, string what, string name, SharedMap? map, long skipped = 0)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("event", what);
                writer.WriteString("name", name);
                writer.WriteString("seenAt", now);
                if (map is not null)
                {
                    writer.WriteNumber("version", map.Version);
                    writer.WriteNumber("entries", map.Count);
                    writer.WriteNumber("bytes", map.ByteLength);
                    if (map.PublishedAt is { } at)
                    {
                        writer.WriteString("publishedAt", at);
                    }

                    writer.WriteNumber("skipped", skipped);
                }

                writer.WriteEndObject();
            }

            context.Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        }
        else if (map is null)
        {
            context.Out.WriteLine($"{Display.Time(now)}  '{name}' deleted (readers keep the last version)");
        }
        else
        {
            string lag = map.PublishedAt is { } at ? $", seen {Display.Duration(now - at)} after publishing" : string.Empty;
            string skip = skipped > 0 ? $" ({skipped} skipped)" : string.Empty;
            context.Out.WriteLine($"{Display.Time(now)}  '{name}' version {map.Version}{skip}: {Display.Entries(map.Count)}, {Display.Bytes(map.ByteLength)}{lag}");
        }

        // Each event reaches a pipe (or a test) at once.
        context.Out.Flush();
    }
}
