using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Shmap.Cli.Demo;

namespace Shmap.Cli.Commands;

/// <summary>
/// The hidden verb a reader process of <c>shmap demo</c> runs: follows the demo map by name and
/// looks random keys up until told to stop, reporting JSON lines on stdout. Commands on stdin:
/// <c>mark</c> (report the lookups so far), <c>stop</c>; end of stdin also stops it.
/// </summary>
internal static class DemoReaderCommand
{
    public const string Verb = "__demo-reader";

    /// <summary>Lookups between checks for a new version and for commands: small, so a switch is seen within microseconds.</summary>
    private const int Batch = 256;

    /// <summary>A reader left alone (its parent killed hard) stops by itself after this long.</summary>
    private static readonly TimeSpan s_maxRun = TimeSpan.FromMinutes(2);

    public static Command Create(CliApp app)
    {
        var name = new Option<string>("--name") { Required = true };
        var entries = new Option<int>("--entries") { Required = true };
        var seed = new Option<int>("--seed") { Required = true };
        var index = new Option<int>("--index") { Required = true };
        var command = new Command(Verb, "Internal: a reader process of 'shmap demo'.")
        {
            Hidden = true,
        };
        command.Options.Add(name);
        command.Options.Add(entries);
        command.Options.Add(seed);
        command.Options.Add(index);
        app.SetAction(command, [], (context, parseResult) => Run(
            context,
            parseResult.GetRequiredValue(name),
            parseResult.GetValue(entries),
            parseResult.GetValue(seed),
            parseResult.GetValue(index)));
        return command;
    }

    private static int Run(CliContext context, string name, int entries, int seed, int index)
    {
        // Prepared before the clock starts: the key strings are the caller's business, not the map's.
        // UTF-8 keys and the zero-copy lookup: the value is read where it lies in shared memory.
        byte[][] keys = DemoData.LookupKeys(entries, unchecked((seed * 31) + index), 1 << 16).Select(Encoding.UTF8.GetBytes).ToArray();
        int mask = keys.Length - 1;

        var clock = Stopwatch.StartNew();
        using LiveSharedMap live = SharedMap.Follow(name, context.Options);
        TimeSpan open = clock.Elapsed;

        // Once more, now that the code is loaded and compiled: what an open costs in a running process.
        clock.Restart();
        using (SharedMap again = SharedMap.Open(name, context.Options))
        {
            _ = again.Count;
        }

        TimeSpan reopen = clock.Elapsed;
        long version = live.Version;
        Emit(context, "ready", json =>
        {
            json.WriteNumber("pid", Environment.ProcessId);
            json.WriteNumber("openMicroseconds", Math.Round(open.TotalMicroseconds, 1));
            json.WriteNumber("reopenMicroseconds", Math.Round(reopen.TotalMicroseconds, 1));
            json.WriteNumber("version", version);
            json.WriteNumber("entries", live.Count);
            json.WriteString("red", live.Get("红"));
        });

        int mark = 0;
        int stop = 0;
        var commands = new Thread(() =>
        {
            using var input = new StreamReader(context.Streams.Input, Encoding.UTF8);
            while (input.ReadLine() is { } line)
            {
                if (line == "mark")
                {
                    Volatile.Write(ref mark, 1);
                }
                else if (line == "stop")
                {
                    break;
                }
            }

            Volatile.Write(ref stop, 1);
        })
        {
            IsBackground = true,
            Name = "demo-reader commands",
        };
        commands.Start();

        long lookups = 0;
        long missing = 0;
        bool marked = false;
        var run = Stopwatch.StartNew();
        while (Volatile.Read(ref stop) == 0 && !context.Cancellation.IsCancellationRequested && run.Elapsed < s_maxRun)
        {
            for (int i = 0; i < Batch; i++)
            {
                if (!live.TryGetValue(keys[(int)(lookups + i) & mask], out ReadOnlySpan<byte> _))
                {
                    missing++;
                }
            }

            lookups += Batch;
            if (!marked && Volatile.Read(ref mark) != 0)
            {
                marked = true;
                long count = lookups;
                double seconds = run.Elapsed.TotalSeconds;
                Emit(context, "mark", json =>
                {
                    json.WriteNumber("lookups", count);
                    json.WriteNumber("seconds", seconds);
                });
            }

            long now = live.Version;
            if (now != version)
            {
                // The first lookups answered from the new version: when, and what they see.
                long seenTicks = DateTime.UtcNow.Ticks;
                version = now;
                string? demoVersion = live.Get(DemoData.VersionKey);
                Emit(context, "version", json =>
                {
                    json.WriteNumber("version", now);
                    json.WriteNumber("seenTicks", seenTicks);
                    json.WriteString("demoVersion", demoVersion);
                });
            }
        }

        double total = run.Elapsed.TotalSeconds;
        Emit(context, "done", json =>
        {
            json.WriteNumber("lookups", lookups);
            json.WriteNumber("missing", missing);
            json.WriteNumber("seconds", total);
            json.WriteNumber("version", version);
        });
        return ExitCodes.Ok;
    }

    private static void Emit(CliContext context, string name, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("event", name);
            write(json);
            json.WriteEndObject();
        }

        context.Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        context.Out.Flush();
    }
}
