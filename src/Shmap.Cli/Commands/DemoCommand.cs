using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Shmap.Cli.Demo;
using Shmap.Cli.Diagnostics;
using Spectre.Console;

namespace Shmap.Cli.Commands;

/// <summary>
/// <c>shmap demo</c>: what Shmap is for, measured on this machine. Shares a generated map, starts
/// reader processes that open it by name, publishes a new version while they read, and compares
/// with every process holding its own <see cref="Dictionary{TKey, TValue}"/>.
/// </summary>
internal static class DemoCommand
{
    public const int DefaultEntries = 1_000_000;
    private const int MaxEntries = 20_000_000;

    public static Command Create(CliApp app)
    {
        var entries = new Option<int>("--entries", "-n") { Description = "Users in the generated map.", HelpName = "N", DefaultValueFactory = _ => DefaultEntries };
        var seed = new Option<int>("--seed") { Description = "Seed of the generated data (same seed, same map).", HelpName = "S", DefaultValueFactory = _ => 42 };
        var readers = new Option<int>("--readers") { Description = "Reader processes to start.", HelpName = "N", DefaultValueFactory = _ => 2 };
        var seconds = new Option<double>("--seconds") { Description = "How long the readers read before the new version is published.", HelpName = "S", DefaultValueFactory = _ => 1.5 };
        var name = new Option<string>("--name") { Description = "Shared name to use (removed at the end).", HelpName = "NAME", DefaultValueFactory = _ => "shmap-demo" };
        var keep = new Option<bool>("--keep") { Description = "Leave the map published at the end, to explore it with get/scan/info." };
        var force = new Option<bool>("--force") { Description = "Use NAME even if a map of that name exists (it is replaced, then removed)." };
        var command = new Command(
            "demo",
            "Show what Shmap is for, measured on this machine: share a generated map, start reader processes that open it by name, " +
            "publish a new version while they read, and compare with a Dictionary<string,string> in each process. No setup, no network.")
        {
            entries,
            seed,
            readers,
            seconds,
            name,
            keep,
            force,
        };
        app.SetAction(
            command,
            [
                "shmap demo",
                "shmap demo --entries 20000 --readers 3",
                "shmap demo --keep && shmap info shmap-demo",
            ],
            (context, parseResult) => new Demo(context, new DemoSettings(
                parseResult.GetRequiredValue(name),
                parseResult.GetValue(entries),
                parseResult.GetValue(seed),
                parseResult.GetValue(readers),
                TimeSpan.FromSeconds(parseResult.GetValue(seconds)),
                parseResult.GetValue(keep),
                parseResult.GetValue(force))).RunAsync());
        return command;
    }

    private sealed record DemoSettings(string Name, int Entries, int Seed, int Readers, TimeSpan ReadTime, bool Keep, bool Force);

    private sealed record Baseline(long RetainedBytes, long AllocatedBytes, TimeSpan BuildTime, double LookupsPerSecond, double SharedMapLookupsPerSecond, double Utf8LookupsPerSecond);

    private sealed class Demo(CliContext context, DemoSettings settings)
    {
        private readonly CliContext _context = context;
        private readonly DemoSettings _settings = settings;
        private readonly bool _terminal = context.Streams.OutputIsTerminal;

        public async Task<int> RunAsync()
        {
            CancellationToken cancel = _context.Cancellation;
            string name = _settings.Name;
            if (SharedMap.Exists(name, _context.Options) && !_settings.Force)
            {
                throw new CliException(ExitCodes.Exists, $"a shared map named '{name}' already exists in {_context.Directory} (a --keep run?); remove it with 'shmap rm {name}', or pass --name or --force.");
            }

            Validate();
            var total = Stopwatch.StartNew();
            Title($"Shmap demo: one string map in shared memory, read by {_settings.Readers} processes at once");
            Note($"directory {_context.Directory}, name '{name}', {Display.Count(_settings.Entries)} users, seed {_settings.Seed}, {Environment.ProcessorCount} CPU cores");

            if (typeof(SharedMap).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true)
            {
                Note("this is a Debug build of Shmap: its lookups run several times slower than in Release (Dictionary is always optimized);");
                Note("for representative numbers: dotnet run -c Release --project src/Shmap.Cli -- demo");
            }

            var children = new List<ChildProcess>();
            bool published = false;
            try
            {
                // 1. Data, as a producer process would have it.
                var clock = Stopwatch.StartNew();
                var builder = new SharedMapBuilder();
                long textBytes = 0;
                string sample = string.Empty;
                foreach ((string key, string value) in DemoData.Entries(_settings.Entries, _settings.Seed))
                {
                    builder.Set(key, value);
                    textBytes += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value);
                    if (key == DemoData.Key(0))
                    {
                        sample = $"{key} → {value}";
                    }

                    if ((builder.Count & 0xFFFF) == 0)
                    {
                        cancel.ThrowIfCancellationRequested();
                    }
                }

                Step($"generated {Display.Entries(builder.Count)} ({Display.Bytes(textBytes)} of UTF-8 text) in {Display.Duration(clock.Elapsed)}, e.g. {sample}");
                Step("with the seed's example: aaa → 323, zb → 1233, tes → 32z, 红 → 32是");

                // 2. Share it once.
                clock.Restart();
                builder.Share(name, _settings.Force, _context.Options);
                published = true;
                TimeSpan shareTime = clock.Elapsed;
                string path;
                long snapshotBytes;
                using (SharedMap map = SharedMap.Open(name, _context.Options))
                {
                    path = map.Path!;
                    snapshotBytes = map.ByteLength;
                    Step($"shared '{name}' version {map.Version}: {Display.Bytes(snapshotBytes)} snapshot written to {path} in {Display.Duration(shareTime)}");
                }

                // 3. What each process would do without Shmap.
                string[] lookupKeys = DemoData.LookupKeys(_settings.Entries, _settings.Seed, 1 << 16);
                Baseline baseline = MeasureDictionary(builder, lookupKeys, name, cancel);
                Step($"for comparison, one Dictionary<string,string> of the same entries: {Display.Bytes(baseline.RetainedBytes)} of managed heap ({Display.Bytes(baseline.AllocatedBytes)} allocated while building it), built in {Display.Duration(baseline.BuildTime)}");
                Step($"lookups per second in this process alone, same keys: Dictionary {Rate(baseline.LookupsPerSecond)}; shared map {Rate(baseline.SharedMapLookupsPerSecond)} with string keys, {Rate(baseline.Utf8LookupsPerSecond)} with UTF-8 keys");

                // 4. Reader processes open it by name.
                for (int i = 1; i <= _settings.Readers; i++)
                {
                    children.Add(ChildProcess.Start(i,
                    [
                        DemoReaderCommand.Verb,
                        "--dir", _context.Directory,
                        "--name", name,
                        "--entries", _settings.Entries.ToString(CultureInfo.InvariantCulture),
                        "--seed", _settings.Seed.ToString(CultureInfo.InvariantCulture),
                        "--index", i.ToString(CultureInfo.InvariantCulture),
                    ]));
                }

                JsonElement[] ready = await WhenAll(children, "ready", TimeSpan.FromSeconds(60), cancel);
                for (int i = 0; i < children.Count; i++)
                {
                    Step($"reader {children[i].Index} (pid {children[i].Pid}) opened '{name}' by name in {Micros(ready[i], "openMicroseconds")} (first call: loads and compiles code; again: {Micros(ready[i], "reopenMicroseconds")}); reads 红 → {ready[i].GetProperty("red").GetString()}");
                }

                // 5. They read; then see how much of the snapshot each holds in RAM.
                Note($"readers look up random users for {_settings.ReadTime.TotalSeconds:0.#} s …");
                await Task.Delay(_settings.ReadTime, cancel);
                MappingMemory?[] memory = children.Select(c => Smaps.Measure(c.Pid, path)).ToArray();
                foreach (ChildProcess child in children)
                {
                    child.Send("mark");
                }

                JsonElement[] marks = await WhenAll(children, "mark", TimeSpan.FromSeconds(30), cancel);
                double[] rates = marks.Select(m => m.GetProperty("lookups").GetInt64() / m.GetProperty("seconds").GetDouble()).ToArray();
                for (int i = 0; i < children.Count; i++)
                {
                    string resident = memory[i] is { } m ? $"; {Display.Bytes(m.RssBytes)} of the snapshot resident in it, {Display.Bytes(m.PssBytes)} its share (PSS)" : string.Empty;
                    Step($"reader {children[i].Index}: {Rate(rates[i])} lookups/s{resident}");
                }

                // 6. A new version while they read.
                builder.Set(DemoData.VersionKey, "2");
                clock.Restart();
                long version = builder.Publish(name, _context.Options);
                TimeSpan publishTime = clock.Elapsed;
                long publishedTicks = DateTime.UtcNow.Ticks;
                Step($"published version {version} ({DemoData.VersionKey} = 2) in {Display.Duration(publishTime)} while they read");
                JsonElement[] switched = await WhenAll(children, "version", TimeSpan.FromSeconds(30), cancel);
                var lags = new TimeSpan[children.Count];
                for (int i = 0; i < children.Count; i++)
                {
                    lags[i] = TimeSpan.FromTicks(Math.Max(0, switched[i].GetProperty("seenTicks").GetInt64() - publishedTicks));
                    Step($"reader {children[i].Index} answers from version {switched[i].GetProperty("version").GetInt64()} {Lag(lags[i])} after Publish returned, without reopening: {DemoData.VersionKey} → {switched[i].GetProperty("demoVersion").GetString()}");
                }

                foreach (ChildProcess child in children)
                {
                    child.Send("stop");
                }

                JsonElement[] done = await WhenAll(children, "done", TimeSpan.FromSeconds(30), cancel);
                long missing = done.Sum(d => d.GetProperty("missing").GetInt64());
                if (missing != 0)
                {
                    throw new CliException(ExitCodes.Internal, $"readers missed {missing} keys that are in the map: this is a bug, please report it.");
                }

                long allLookups = done.Sum(d => d.GetProperty("lookups").GetInt64());
                Step($"readers did {Display.Count(allLookups)} lookups in all, every one found");

                WriteTable(snapshotBytes, shareTime, publishTime, ready, rates, memory, lags, baseline);
                return ExitCodes.Ok;
            }
            finally
            {
                foreach (ChildProcess child in children)
                {
                    child.Dispose();
                }

                if (published && !_settings.Keep)
                {
                    SharedMap.Delete(name, _context.Options);
                    Note($"removed '{name}'; the demo took {Display.Duration(total.Elapsed)}");
                }
                else if (published)
                {
                    Note($"kept '{name}': try 'shmap info {name}', 'shmap scan {name} --prefix user:0000001', then 'shmap rm {name}'");
                }
            }
        }

        private void Validate()
        {
            // Here rather than in a parse validator: validators do not see the options' defaults.
            if (_settings.Entries is < 1 or > MaxEntries)
            {
                throw new CliException(ExitCodes.Usage, $"--entries must be between 1 and {MaxEntries:N0}.");
            }

            if (_settings.Readers is < 1 or > 16)
            {
                throw new CliException(ExitCodes.Usage, "--readers must be between 1 and 16.");
            }

            if (_settings.ReadTime < TimeSpan.FromSeconds(0.1) || _settings.ReadTime > TimeSpan.FromSeconds(60))
            {
                throw new CliException(ExitCodes.Usage, "--seconds must be between 0.1 and 60.");
            }
        }

        private Baseline MeasureDictionary(SharedMapBuilder builder, string[] keys, string name, CancellationToken cancel)
        {
            // Retained size: the managed heap after a full collection, with and without the
            // dictionary (its entries, buckets and every key and value string) alive.
            long before = GC.GetTotalMemory(forceFullCollection: true);
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            var dictionary = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> entry in builder)
            {
                dictionary[entry.Key] = entry.Value;
            }

            TimeSpan build = clock.Elapsed;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            long retained = GC.GetTotalMemory(forceFullCollection: true) - before;
            cancel.ThrowIfCancellationRequested();

            // The same keys against both in this one process, round after round, one loop after the
            // other (the machine's speed drifts between seconds): the median of each. Like for like.
            using SharedMap map = SharedMap.Open(name, _context.Options);
            byte[][] utf8Keys = keys.Select(Encoding.UTF8.GetBytes).ToArray();
            var rates = new List<double>[3] { [], [], [] };
            for (int round = -1; round < 5; round++)
            {
                // Round -1 is unmeasured: in a fresh process the first few hundred milliseconds run
                // code the JIT has not optimized yet (the string path measured 4x slower there).
                cancel.ThrowIfCancellationRequested();
                TimeSpan duration = TimeSpan.FromMilliseconds(round < 0 ? 300 : 150);
                double[] measured =
                [
                    LookupsPerSecond(keys, key => dictionary.TryGetValue(key, out _), duration),
                    LookupsPerSecond(keys, key => map.TryGetValue(key, out _), duration),
                    LookupsPerSecond(utf8Keys, key => map.TryGetValue(key, out ReadOnlySpan<byte> _), duration),
                ];
                for (int i = 0; round >= 0 && i < measured.Length; i++)
                {
                    rates[i].Add(measured[i]);
                }
            }

            GC.KeepAlive(dictionary);
            double[] medians = [.. rates.Select(static r => r.Order().ElementAt(r.Count / 2))];
            return new Baseline(retained, allocated, build, medians[0], medians[1], medians[2]);
        }

        private static double LookupsPerSecond<T>(T[] keys, Func<T, bool> lookup, TimeSpan duration)
        {
            int mask = keys.Length - 1;
            long lookups = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                for (int i = 0; i < 4096; i++)
                {
                    lookup(keys[(int)(lookups + i) & mask]);
                }

                lookups += 4096;
            }

            return lookups / clock.Elapsed.TotalSeconds;
        }

        private void WriteTable(long snapshotBytes, TimeSpan shareTime, TimeSpan publishTime, JsonElement[] ready, double[] rates, MappingMemory?[] memory, TimeSpan[] lags, Baseline baseline)
        {
            int readers = rates.Length;
            string opens = string.Join(", ", ready.Select(r => Micros(r, "reopenMicroseconds")));
            string firstOpens = string.Join(", ", ready.Select(r => Micros(r, "openMicroseconds")));
            string pss = memory.All(m => m is not null) ? $" (PSS {string.Join(", ", memory.Select(m => Display.Bytes(m!.Value.PssBytes)))})" : string.Empty;
            var table = new Table()
                .Border(_terminal ? TableBorder.Rounded : TableBorder.Ascii)
                .AddColumn(new TableColumn("measured").NoWrap())
                .AddColumn(new TableColumn("Shmap: one shared snapshot"))
                .AddColumn(new TableColumn("Dictionary<string,string> per process"));
            table.AddRow("share / build", $"{Display.Duration(shareTime)}, once", $"{Display.Duration(baseline.BuildTime)} in every process");
            table.AddRow("open in a process", $"{opens} ({firstOpens} with JIT)", "build time + loading the data");
            table.AddRow("lookups/s, alone", $"{Rate(baseline.SharedMapLookupsPerSecond)} string, {Rate(baseline.Utf8LookupsPerSecond)} UTF-8", Rate(baseline.LookupsPerSecond));
            table.AddRow($"lookups/s, {readers} readers", $"{string.Join(", ", rates.Select(Rate))} UTF-8, at once", "-");
            table.AddRow("RAM for the data", $"{Display.Bytes(snapshotBytes)} once{pss}", $"{Display.Bytes(baseline.RetainedBytes)} each, {Display.Bytes(baseline.RetainedBytes * readers)} for {readers}");
            table.AddRow("new version", $"{Display.Duration(publishTime)}; followed in {string.Join(", ", lags.Select(Lag))}", "rebuild or restart every process");
            Blank();
            _context.Write(table);
            Note("string = TryGetValue(string) decodes the value; UTF-8 = TryGetValue(ReadOnlySpan<byte>) reads it in place.");
            Note("Dictionary RAM = managed-heap growth (GC.GetTotalMemory after a full GC) while one holding the entries is alive;");
            Note("Shmap RAM = the snapshot file on tmpfs, mapped read-only by every reader (PSS from /proc/PID/smaps).");
            Blank();
        }

        private static async Task<JsonElement[]> WhenAll(List<ChildProcess> children, string name, TimeSpan timeout, CancellationToken cancel)
        {
            try
            {
                return await Task.WhenAll(children.Select(c => c.Event(name))).WaitAsync(timeout, cancel);
            }
            catch (TimeoutException)
            {
                throw new CliException(ExitCodes.Internal, $"the readers did not report '{name}' within {timeout.TotalSeconds:0} s.");
            }
        }

        private static string Micros(JsonElement element, string property) => Display.Duration(TimeSpan.FromMicroseconds(element.GetProperty(property).GetDouble()));

        private static string Rate(double perSecond) => perSecond >= 1e6
            ? string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e6:0.00}M")
            : string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e3:0}k");

        private static string Lag(TimeSpan lag) => lag < TimeSpan.FromMilliseconds(0.1) ? "<0.1 ms" : Display.Duration(lag);

        private void Title(string text)
        {
            if (_terminal)
            {
                _context.OutConsole().MarkupLine($"[bold]{Markup.Escape(text)}[/]");
            }
            else
            {
                _context.Out.WriteLine(text);
            }

            _context.Out.Flush();
        }

        private void Step(string text)
        {
            if (_terminal)
            {
                _context.OutConsole().MarkupLine($"  [green]✓[/] {Markup.Escape(text)}");
            }
            else
            {
                _context.Out.WriteLine("  - " + text);
            }

            _context.Out.Flush();
        }

        private void Note(string text)
        {
            if (_terminal)
            {
                _context.OutConsole().MarkupLine($"  [grey]{Markup.Escape(text)}[/]");
            }
            else
            {
                _context.Out.WriteLine("  " + text);
            }

            _context.Out.Flush();
        }

        private void Blank()
        {
            _context.Out.WriteLine();
            _context.Out.Flush();
        }
    }
}
