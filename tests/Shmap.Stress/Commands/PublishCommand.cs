using System.Diagnostics;
using System.Globalization;

namespace Shmap.Stress.Commands;

/// <summary>
/// <c>publish</c>: publishes versions of a <see cref="StressMap"/> in a row.
/// <c>--versions N</c> (0: until stopped), <c>--keys</c>, <c>--pad</c> (bytes of padding per value),
/// <c>--sleep-ms</c> between publishes, <c>--tag version|id</c> with <c>--id</c>, <c>--print</c>
/// (a line <c>published {version} {tag} {timestamp}</c> per publish), <c>--duration</c>, <c>--stop-on-stdin</c>,
/// <c>--wait-go</c> (print "ready", then wait for a "go" line on stdin before the first publish: a test
/// starts the next publisher while the current one runs).
/// With <c>--tag version</c> (the default) this must be the only publisher of the name: it predicts
/// each version number, writes it into every value, and fails if the library hands out another.
/// </summary>
internal static class PublishCommand
{
    public static int Run(Options options)
    {
        Target target = Target.FromOptions(options);
        long versions = options.Long("versions", 100);
        var map = new StressMap(options.Int("keys", 1000), options.Int("pad", 0));
        int sleepMs = options.Int("sleep-ms", 0);
        bool byVersion = options.String("tag", "version") switch
        {
            "version" => true,
            "id" => false,
            string other => throw new OptionException($"--tag is 'version' or 'id', not '{other}'."),
        };
        string id = options.String("id", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        bool print = options.Flag("print");
        bool waitGo = options.Flag("wait-go");
        double duration = options.Double("duration", 0);
        bool stopOnStdin = options.Flag("stop-on-stdin");
        options.ThrowOnUnused();

        var builder = new SharedMapBuilder();
        if (waitGo)
        {
            // Compile the building path now, so "go" starts publishing at once.
            map.Fill(builder, "warm-up", 0);
            _ = builder.Dump();
            Console.WriteLine("ready");
            string? line;
            while ((line = Console.In.ReadLine()) is not null && line != "go")
            {
            }

            if (line is null)
            {
                return 0;
            }
        }
        else
        {
            Console.WriteLine("ready");
        }

        using StopSignal stop = StopSignal.Create(duration, stopOnStdin);
        long started = Stopwatch.GetTimestamp();
        long last = 0;
        long done = 0;
        for (; (versions == 0 || done < versions) && !stop.IsStopped; done++)
        {
            string tag;
            long predicted = 0;
            int extras;
            if (byVersion)
            {
                predicted = CurrentVersion(target) + 1;
                tag = predicted.ToString(CultureInfo.InvariantCulture);
                extras = StressMap.ExtrasFor(predicted);
            }
            else
            {
                tag = id + "." + done.ToString(CultureInfo.InvariantCulture);
                extras = StressMap.ExtrasFor(done);
            }

            map.Fill(builder, tag, extras);
            long version = builder.Publish(target.Name, target.Options);
            long at = Stopwatch.GetTimestamp();
            if (byVersion && version != predicted)
            {
                Console.Error.WriteLine($"publish: expected to publish version {predicted} but got {version}: another publisher on '{target.Name}'? Use --tag id.");
                return 3;
            }

            if (version <= last)
            {
                Console.Error.WriteLine($"publish: version went from {last} to {version}.");
                return 3;
            }

            last = version;
            if (print)
            {
                Console.WriteLine(FormattableString.Invariant($"published {version} {tag} {at}"));
            }

            if (sleepMs > 0)
            {
                stop.Token.WaitHandle.WaitOne(sleepMs);
            }
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Console.WriteLine(FormattableString.Invariant($"publish: versions={done} last={last} seconds={seconds:F2} per_publish_ms={(done == 0 ? 0 : seconds * 1000 / done):F2}"));
        return 0;
    }

    /// <summary>Version of the map now published under the name, 0 when there is none.</summary>
    public static long CurrentVersion(Target target)
    {
        try
        {
            using SharedMap map = SharedMap.Open(target.Name, target.Options);
            return map.Version;
        }
        catch (SharedMapNotFoundException)
        {
            return 0;
        }
    }
}
