using Shmap.Stress;
using Shmap.Stress.Commands;

// Child process of the multi-process tests, and an opt-in long stress and measurement tool.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("""
        Shmap.Stress VERB [--option value]...

        Common: --dir DIR (default $SHMAP_DIR or /dev/shm/shmap; scenario verbs default to a fresh
        directory), --name NAME, --seed N, --duration SECONDS, --stop-on-stdin (stop at end of stdin).

          publish     publish versions where every value encodes its version (or publisher id)
                      --versions N (0: until stopped) --keys N --pad BYTES --sleep-ms N --tag version|id --id X --print
          follow      follow a name from --threads N reading threads (+ --openers N) and check each call
                      is one complete version, versions never going back; exits 1 on any inconsistency
                      --tag version|id --wait SECONDS --print-versions --hold OPS (0: no held snapshots)
                      --span-reads own|shared|none (zero-copy lookups: per-thread follower, the shared one)
          latency     publish-to-visible latency seen by a follower in another process
                      --publishes N --keys N --gap-ms N --mode poll|wait|both --out FILE
          throughput  aggregate TryGetValue(utf8) rate of 1 vs 2 follower processes on one map
                      --entries N --seconds S --rounds N --out FILE
          memory      publish N versions of a large map with a follower reading; check tmpfs usage and
                      the follower's mappings stay within two versions
                      --publishes N --mb N --keys N --follower-threads N
        """);
    return args.Length == 0 ? 2 : 0;
}

try
{
    Options options = Options.Parse(args.AsSpan(1));
    return args[0] switch
    {
        "publish" => PublishCommand.Run(options),
        "follow" => FollowCommand.Run(options),
        "memory" => MemoryCommand.Run(options),
        "latency" => LatencyCommand.Run(options),
        "latency-follower" => LatencyCommand.RunFollower(options),
        "throughput" => ThroughputCommand.Run(options),
        "throughput-worker" => ThroughputCommand.RunWorker(options),
        _ => throw new OptionException($"Unknown verb '{args[0]}'; run with --help."),
    };
}
catch (OptionException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
