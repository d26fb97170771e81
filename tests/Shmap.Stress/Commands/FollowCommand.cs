using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Shmap.Stress.Commands;

/// <summary>
/// <c>follow</c>: follows a name whose versions <see cref="PublishCommand"/> publishes and checks,
/// from <c>--threads</c> reading threads (and <c>--openers</c> threads calling
/// <see cref="SharedMap.Open"/>), that every call is answered by one complete version and that
/// versions never go backwards. Prints a summary line and exits 1 on any inconsistency.
/// </summary>
/// <remarks>
/// <para>What "consistent" means per call. A follower call reads one version, chosen when the
/// call starts; the version a thread sees never decreases. So, per thread, with <c>floor</c> the
/// highest version this thread has observed so far:</para>
/// <list type="bullet">
/// <item><c>Version</c> ≥ floor.</item>
/// <item>A single lookup (<c>TryGetValue</c> UTF-8 or string, <c>GetAt</c>) returns a value that some
/// publish wrote for that key, byte for byte (tag, key and a tag-dependent pad): never a mix of
/// two versions. With version tags: <c>Version</c> read before ≤ the value's version ≤ each later
/// lookup's version ≤ <c>Version</c> read after. <c>IndexOf</c> of key i is its rank in every version.</item>
/// <item><c>GetMany</c> answers all its keys from one version: every value carries the same tag,
/// within the same bounds as a single lookup.</item>
/// <item>A <c>Snapshot()</c> is one version: its <c>__tag</c> is its <c>Version</c> (version tags),
/// <c>Count</c> equals its <c>__count</c>, its extra keys are exactly those of its tag, and every
/// value checked carries its tag; the first snapshot of each version a thread meets is checked
/// completely, later ones by sample. Some snapshots are held across later publishes and checked again.</item>
/// <item>Enumerating the follower itself yields one complete version.</item>
/// <item>Across threads (and with id tags): one version number never carries two tags, nor one tag two versions.</item>
/// </list>
/// </remarks>
internal static class FollowCommand
{
    public static int Run(Options options)
    {
        Target target = Target.FromOptions(options);
        int threads = options.Int("threads", 2);
        int openers = options.Int("openers", 0);
        bool byVersion = options.String("tag", "version") switch
        {
            "version" => true,
            "id" => false,
            string other => throw new OptionException($"--tag is 'version' or 'id', not '{other}'."),
        };
        int seed = options.Int("seed", Environment.TickCount);
        double waitSeconds = options.Double("wait", 30);
        bool printVersions = options.Flag("print-versions");
        int hold = options.Int("hold", 500);
        string spanReads = options.String("span-reads", threads == 1 ? "shared" : "own");
        if (spanReads is not ("own" or "shared" or "none"))
        {
            throw new OptionException($"--span-reads is own, shared or none, not '{spanReads}'.");
        }

        if (spanReads == "shared" && threads > 1)
        {
            // Another thread's calls can move the follower on by two versions while this thread still
            // reads a span it returned: outside the contract of LiveSharedMap.TryGetValue(utf8).
            throw new OptionException("--span-reads shared needs --threads 1: with more threads a span from the shared follower can be unmapped under its reader.");
        }

        using StopSignal stop = StopSignal.FromOptions(options, defaultDuration: 10);
        options.ThrowOnUnused();

        LiveSharedMap? live = WaitForName(target, waitSeconds, stop);
        if (live is null)
        {
            Console.Error.WriteLine($"follow: nothing published under '{target.Name}' in {target.Directory} within {waitSeconds} s.");
            return 4;
        }

        using (live)
        {
            StressMap shape;
            using (SharedMap first = live.Snapshot())
            {
                shape = ShapeOf(first);
            }

            var errors = new ErrorLog();
            var checker = new Checker(shape, byVersion, errors);
            var workers = new List<(Thread Thread, Stats Stats)>();
            for (int i = 0; i < threads + openers; i++)
            {
                var stats = new Stats();
                int index = i;
                bool opener = i >= threads;
                var thread = new Thread(() =>
                {
                    LiveSharedMap? own = !opener && spanReads == "own" ? SharedMap.Follow(target.Name, target.Options) : null;
                    try
                    {
                        LiveSharedMap? spans = spanReads switch { "own" => own, "shared" => live, _ => null };
                        var reader = new Reader(live, spans, hold, checker, stats, new Random(seed + index), stop.Token);
                        if (opener)
                        {
                            reader.RunOpener(target);
                        }
                        else
                        {
                            reader.Run();
                        }
                    }
                    finally
                    {
                        own?.Dispose();
                    }
                })
                {
                    Name = opener ? $"opener {index}" : $"reader {index}",
                };
                workers.Add((thread, stats));
            }

            long started = Stopwatch.GetTimestamp();
            foreach ((Thread thread, _) in workers)
            {
                thread.Start();
            }

            Console.WriteLine(FormattableString.Invariant($"ready seed={seed}"));
            foreach ((Thread thread, _) in workers)
            {
                thread.Join();
            }

            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            long final = 0;
            try
            {
                using SharedMap last = live.Snapshot();
                final = last.Version;
                checker.CheckSnapshot(last, full: true, "final snapshot");
                last.Verify();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                errors.Add($"final snapshot: {e.GetType().Name}: {e.Message}");
            }

            var versions = new SortedSet<long>();
            long reads = 0, snapshots = 0, opens = 0, switches = 0;
            foreach ((_, Stats stats) in workers)
            {
                versions.UnionWith(stats.Versions);
                reads += stats.Reads;
                snapshots += stats.Snapshots;
                opens += stats.Opens;
                switches += stats.Switches;
            }

            if (printVersions)
            {
                foreach (KeyValuePair<long, string> pair in checker.VersionTags.OrderBy(static p => p.Key))
                {
                    Console.WriteLine(FormattableString.Invariant($"version {pair.Key} {pair.Value}"));
                }
            }

            errors.Print("follow");
            Console.WriteLine(FormattableString.Invariant(
                $"follow: threads={threads} openers={openers} reads={reads} snapshots={snapshots} opens={opens} versions={versions.Count} first={(versions.Count > 0 ? versions.Min : 0)} last={(versions.Count > 0 ? versions.Max : 0)} final={final} switches={switches} deleted={live.IsDeleted} errors={errors.Count} seconds={seconds:F1} seed={seed}"));
            return errors.Count == 0 ? 0 : 1;
        }
    }

    private static LiveSharedMap? WaitForName(Target target, double waitSeconds, StopSignal stop)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(waitSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                return SharedMap.Follow(target.Name, target.Options);
            }
            catch (SharedMapNotFoundException) when (Stopwatch.GetTimestamp() < deadline && !stop.IsStopped)
            {
                Thread.Sleep(5);
            }
            catch (SharedMapNotFoundException)
            {
                return null;
            }
        }
    }

    /// <summary>Keys and pad length of the maps published: from the first version seen.</summary>
    private static StressMap ShapeOf(SharedMap map)
    {
        int pad = int.Parse(map.Get(StressMap.PadKey) ?? throw new InvalidDataException("not a stress map: no __pad"), CultureInfo.InvariantCulture);
        int keys = map.StartsWith("k").Count();
        return new StressMap(keys, pad);
    }

    private sealed class Stats
    {
        public HashSet<long> Versions { get; } = [];

        /// <summary>Versions this thread has checked completely.</summary>
        public HashSet<long> Checked { get; } = [];

        public long Reads { get; set; }

        public long Snapshots { get; set; }

        public long Opens { get; set; }

        public long Switches { get; set; }
    }

    /// <summary>The checks of one version, shared by the threads.</summary>
    private sealed class Checker(StressMap shape, bool byVersion, ErrorLog errors)
    {
        private readonly ConcurrentDictionary<string, long> _tagVersions = new(StringComparer.Ordinal);

        public StressMap Shape { get; } = shape;

        public bool ByVersion { get; } = byVersion;

        public ErrorLog Errors { get; } = errors;

        public ConcurrentDictionary<long, string> VersionTags { get; } = new();

        /// <summary>Checks that <paramref name="map"/> is one complete version; returns false (errors logged) when not.</summary>
        public bool CheckSnapshot(SharedMap map, bool full, string context, Random? random = null)
        {
            long version = map.Version;
            string where = FormattableString.Invariant($"{context}: version {version}");
            string? tag = map.Get(StressMap.TagKey);
            if (tag is null)
            {
                return Fail($"{where} has no {StressMap.TagKey}");
            }

            if (ByVersion && tag != version.ToString(CultureInfo.InvariantCulture))
            {
                return Fail($"{where} is tagged '{tag}'");
            }

            string? countText = map.Get(StressMap.CountKey);
            if (!int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count != map.Count)
            {
                return Fail($"{where} has Count {map.Count} but {StressMap.CountKey} '{countText}'");
            }

            int extras = count - Shape.Keys - StressMap.MetaKeys;
            if (extras is < 0 or >= StressMap.MaxExtras || (ByVersion && extras != StressMap.ExtrasFor(version)))
            {
                return Fail($"{where} has {extras} extra keys");
            }

            if (map.Get(StressMap.PadKey) != Shape.PadBytes.ToString(CultureInfo.InvariantCulture))
            {
                return Fail($"{where} has pad '{map.Get(StressMap.PadKey)}', not {Shape.PadBytes}");
            }

            string knownTag = VersionTags.GetOrAdd(version, tag);
            if (knownTag != tag)
            {
                return Fail($"{where} is tagged '{tag}' here and '{knownTag}' elsewhere");
            }

            long knownVersion = _tagVersions.GetOrAdd(tag, version);
            if (knownVersion != version)
            {
                return Fail($"{where}: tag '{tag}' was also seen as version {knownVersion}");
            }

            byte[] tagBytes = Encoding.UTF8.GetBytes(tag);
            int checks = full ? Shape.Keys : Math.Min(8, Shape.Keys);
            for (int n = 0; n < checks; n++)
            {
                int i = full ? n : random!.Next(Shape.Keys);
                if (!map.TryGetValue(Shape.KeyUtf8(i), out ReadOnlySpan<byte> value))
                {
                    return Fail($"{where} misses {StressMap.Key(i)}");
                }

                if (!Shape.TryParse(Shape.KeyUtf8(i), value, out ReadOnlySpan<byte> valueTag, out string? error) || !valueTag.SequenceEqual(tagBytes))
                {
                    return Fail($"{where}: {StressMap.Key(i)} = '{StressMap.Describe(value)}' ({error ?? "tag differs"})");
                }
            }

            if (full)
            {
                for (int j = 0; j < StressMap.MaxExtras; j++)
                {
                    byte[] key = Encoding.UTF8.GetBytes(StressMap.ExtraKey(j));
                    bool found = map.TryGetValue(key, out ReadOnlySpan<byte> value);
                    if (found != j < extras)
                    {
                        return Fail($"{where}: extra key x{j} {(found ? "present" : "absent")} with {extras} extras");
                    }

                    if (found && (!Shape.TryParse(key, value, out ReadOnlySpan<byte> valueTag, out _) || !valueTag.SequenceEqual(tagBytes)))
                    {
                        return Fail($"{where}: x{j} = '{StressMap.Describe(value)}'");
                    }
                }

                int probe = (int)(version % Shape.Keys);
                if (map.GetAt(StressMap.RankOf(probe)).Key != StressMap.Key(probe))
                {
                    return Fail($"{where}: rank {StressMap.RankOf(probe)} is not {StressMap.Key(probe)}");
                }
            }

            return true;
        }

        public bool Fail(string message)
        {
            Errors.Add(message);
            return false;
        }
    }

    /// <summary>
    /// One reading thread: random operations on the shared follower <paramref name="live"/>, each
    /// checked against the thread's floor. Zero-copy lookups go to <paramref name="spans"/>: a follower
    /// only this thread calls (or the shared one when this is the only thread), because a span stays
    /// valid only until its follower has moved on by two versions, and other threads' calls move a
    /// shared follower on at any time.
    /// </summary>
    private sealed class Reader(LiveSharedMap live, LiveSharedMap? spans, int hold, Checker checker, Stats stats, Random random, CancellationToken stop)
    {
        private readonly StressMap _shape = checker.Shape;
        private long _floor;
        private SharedMap? _held;
        private int _heldFor;

        public void Run()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    int op = random.Next(1000);
                    if (op < 700)
                    {
                        ReadRun();
                    }
                    else if (op < 780)
                    {
                        StringReads();
                    }
                    else if (op < 850)
                    {
                        ManyReads();
                    }
                    else if (op < 990)
                    {
                        SnapshotOnce();
                    }
                    else
                    {
                        EnumerateLive();
                    }

                    if (_held is not null && ++_heldFor >= hold)
                    {
                        // Held across later publishes: still the same complete version.
                        checker.CheckSnapshot(_held, full: true, "held snapshot");
                        _held.Dispose();
                        _held = null;
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    checker.Fail($"{Thread.CurrentThread.Name}: {e.GetType().Name}: {e.Message}");
                    Thread.Sleep(1);
                }
            }

            _held?.Dispose();
        }

        public void RunOpener(Target target)
        {
            long last = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using SharedMap map = SharedMap.Open(target.Name, target.Options);
                    stats.Opens++;
                    if (map.Version < last)
                    {
                        checker.Fail($"opener: opened version {map.Version} after {last}");
                    }

                    last = map.Version;
                    Observe(last);
                    checker.CheckSnapshot(map, full: true, "opened map");
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    checker.Fail($"opener: {e.GetType().Name}: {e.Message}");
                    Thread.Sleep(1);
                }
            }
        }

        /// <summary>
        /// Version, then 16 lookups (zero-copy, by string, by rank), then Version: all in one
        /// non-decreasing order, since each call answers from the newest version when it starts.
        /// </summary>
        private void ReadRun()
        {
            long before = ObserveVersion("Version before lookups");
            long previous = before;
            for (int n = 0; n < 16; n++)
            {
                int i = random.Next(_shape.Keys);
                ReadOnlySpan<byte> key = _shape.KeyUtf8(i);
                ReadOnlySpan<byte> tag;
                string call;
                if ((n & 7) == 7)
                {
                    call = "GetAt";
                    int rank = live.IndexOf(StressMap.Key(i));
                    if (rank != StressMap.RankOf(i))
                    {
                        checker.Fail($"IndexOf({StressMap.Key(i)}) = {rank}, not {StressMap.RankOf(i)}");
                        return;
                    }

                    KeyValuePair<string, string> entry = live.GetAt(rank);
                    if (entry.Key != StressMap.Key(i))
                    {
                        checker.Fail($"GetAt({rank}) = {entry.Key}, not {StressMap.Key(i)}");
                        return;
                    }

                    if (!Parse(key, Encoding.UTF8.GetBytes(entry.Value), out tag))
                    {
                        return;
                    }
                }
                else if (spans is not null && (n & 1) == 0)
                {
                    call = "TryGetValue(utf8)";
                    if (!spans.TryGetValue(key, out ReadOnlySpan<byte> value))
                    {
                        checker.Fail($"TryGetValue({StressMap.Key(i)}) missed after version {before}");
                        return;
                    }

                    if (!Parse(key, value, out tag))
                    {
                        return;
                    }
                }
                else
                {
                    call = "TryGetValue(string)";
                    if (!live.TryGetValue(StressMap.Key(i), out string? value))
                    {
                        checker.Fail($"TryGetValue(\"{StressMap.Key(i)}\") missed after version {before}");
                        return;
                    }

                    if (!Parse(key, Encoding.UTF8.GetBytes(value), out tag))
                    {
                        return;
                    }
                }

                previous = CheckTag(tag, previous, call);
                stats.Reads++;
            }

            long after = ObserveVersion("Version after lookups");
            if (checker.ByVersion && after < previous)
            {
                checker.Fail($"Version {after} after a lookup answered by version {previous}");
            }

            int count = live.Count;
            if (count < _shape.CountFor(0) || count >= _shape.CountFor(StressMap.MaxExtras))
            {
                checker.Fail($"Count {count} is no version's count");
            }
        }

        private void StringReads()
        {
            long before = ObserveVersion("Version before Get");
            long previous = before;
            for (int n = 0; n < 4; n++)
            {
                int i = random.Next(_shape.Keys);
                string? value = live.Get(StressMap.Key(i));
                if (value is null)
                {
                    checker.Fail($"Get({StressMap.Key(i)}) missed after version {before}");
                    return;
                }

                if (!Parse(_shape.KeyUtf8(i), Encoding.UTF8.GetBytes(value), out ReadOnlySpan<byte> tag))
                {
                    return;
                }

                previous = CheckTag(tag, previous, "Get");
                stats.Reads++;
            }

            long after = ObserveVersion("Version after Get");
            if (checker.ByVersion && after < previous)
            {
                checker.Fail($"Version {after} after a Get answered by version {previous}");
            }
        }

        /// <summary>One GetMany call: all its values from one version, not below the floor.</summary>
        private void ManyReads()
        {
            long before = ObserveVersion("Version before GetMany");
            string[] keys = new string[random.Next(1, 40)];
            for (int n = 0; n < keys.Length; n++)
            {
                keys[n] = StressMap.Key(random.Next(_shape.Keys));
            }

            string?[] values = new string?[keys.Length];
            live.GetMany(keys, values);
            byte[]? first = null;
            for (int n = 0; n < keys.Length; n++)
            {
                if (values[n] is not string value)
                {
                    checker.Fail($"GetMany missed {keys[n]} after version {before}");
                    return;
                }

                if (!Parse(Encoding.UTF8.GetBytes(keys[n]), Encoding.UTF8.GetBytes(value), out ReadOnlySpan<byte> tag))
                {
                    return;
                }

                if (first is null)
                {
                    first = tag.ToArray();
                    CheckTag(tag, before, "GetMany");
                }
                else if (!tag.SequenceEqual(first))
                {
                    checker.Fail($"GetMany of {keys.Length} keys mixed versions: '{StressMap.Describe(first)}' and '{StressMap.Describe(tag)}'");
                    return;
                }

                stats.Reads++;
            }

            ObserveVersion("Version after GetMany");
        }

        private void SnapshotOnce()
        {
            SharedMap snapshot = live.Snapshot();
            bool keep = false;
            try
            {
                long version = snapshot.Version;
                bool firstSight = stats.Checked.Add(version);
                CheckFloor(version, "Snapshot()");
                stats.Snapshots++;
                checker.CheckSnapshot(snapshot, full: firstSight, "Snapshot()", random);
                long now = ObserveVersion("Version after Snapshot()");
                if (now < version)
                {
                    checker.Fail($"Version {now} after a snapshot of version {version}");
                }

                keep = hold > 0 && _held is null && random.Next(10) == 0;
                if (keep)
                {
                    _held = snapshot;
                    _heldFor = 0;
                }
            }
            finally
            {
                if (!keep)
                {
                    snapshot.Dispose();
                }
            }
        }

        private void EnumerateLive()
        {
            if (_shape.PadBytes > 4096)
            {
                return;
            }

            long before = ObserveVersion("Version before enumeration");
            int seen = 0;
            int count = -1;
            string? tag = null;
            byte[]? tagBytes = null;
            foreach (KeyValuePair<string, string> entry in live)
            {
                seen++;
                if (entry.Key == StressMap.CountKey)
                {
                    count = int.Parse(entry.Value, CultureInfo.InvariantCulture);
                }
                else if (entry.Key == StressMap.TagKey)
                {
                    tag = entry.Value;
                    tagBytes = Encoding.UTF8.GetBytes(tag);
                }
                else if (entry.Key != StressMap.PadKey)
                {
                    if (tagBytes is null)
                    {
                        checker.Fail($"enumeration: {entry.Key} before {StressMap.TagKey}");
                        return;
                    }

                    if (!Parse(Encoding.UTF8.GetBytes(entry.Key), Encoding.UTF8.GetBytes(entry.Value), out ReadOnlySpan<byte> valueTag) || !valueTag.SequenceEqual(tagBytes))
                    {
                        checker.Fail($"enumeration of version tagged '{tag}': {entry.Key} = '{StressMap.Describe(Encoding.UTF8.GetBytes(entry.Value))}'");
                        return;
                    }
                }
            }

            if (seen != count)
            {
                checker.Fail($"enumeration of version tagged '{tag}' gave {seen} entries, {StressMap.CountKey} says {count}");
            }

            if (checker.ByVersion && StressMap.TryParseVersion(Encoding.UTF8.GetBytes(tag ?? ""), out long version))
            {
                CheckFloor(Math.Max(version, before), "enumeration");
                if (version < before)
                {
                    checker.Fail($"enumeration answered by version {version} after Version {before}");
                }
            }
        }

        private bool Parse(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, out ReadOnlySpan<byte> tag)
        {
            if (_shape.TryParse(key, value, out tag, out string? error))
            {
                return true;
            }

            checker.Fail($"{StressMap.Describe(key)} = '{StressMap.Describe(value)}': {error}");
            return false;
        }

        /// <summary>With version tags: a lookup's version is not below the previous one's; returns it.</summary>
        private long CheckTag(ReadOnlySpan<byte> tag, long previous, string call)
        {
            if (!checker.ByVersion)
            {
                return previous;
            }

            if (!StressMap.TryParseVersion(tag, out long version))
            {
                checker.Fail($"{call}: tag '{StressMap.Describe(tag)}' is not a version");
                return previous;
            }

            if (version < previous)
            {
                checker.Fail($"{call} answered by version {version} after version {previous}");
            }

            Observe(version);
            return Math.Max(version, previous);
        }

        private long ObserveVersion(string call)
        {
            long version = live.Version;
            CheckFloor(version, call);
            return version;
        }

        private void CheckFloor(long version, string call)
        {
            if (version < _floor)
            {
                checker.Fail($"{call}: version {version} after this thread saw {_floor}");
            }

            Observe(version);
        }

        private void Observe(long version)
        {
            if (version > _floor)
            {
                if (_floor != 0)
                {
                    stats.Switches++;
                }

                _floor = version;
            }

            stats.Versions.Add(version);
        }
    }
}
