using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Shmap.Benchmarks;

/// <summary>
/// Entry point. <c>size [N ...]</c> prints the snapshot size report; <c>interleaved [N] [rounds] [ascii|profiles|both]</c>
/// compares point lookups side by side in one process (<see cref="Interleaved"/>); <c>lmdb-check</c> only checks
/// the LightningDB native library; anything else goes to BenchmarkDotNet's switcher
/// (e.g. <c>--filter '*'</c>), after removing <c>--wall-clock</c> (time with wall time instead of
/// the benchmark thread's CPU time, see <see cref="BenchConfig"/>).
/// </summary>
public static class Program
{
    private const string WallClockOption = "--wall-clock";

    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > 0 && args[0] == "size")
        {
            int[] sizes = args.Length > 1 ? [.. args.Skip(1).Select(a => int.Parse(a, NumberStyles.AllowThousands, CultureInfo.InvariantCulture))] : SizeReport.DefaultSizes;
            return SizeReport.Run(sizes);
        }

        if (args.Length > 0 && args[0] == "interleaved")
        {
            int count = args.Length > 1 ? int.Parse(args[1], NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : 1_000_000;
            int rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 15;
            Workload[] workloads = args.Length > 3 && args[3] != "both" ? [Enum.Parse<Workload>(args[3], ignoreCase: true)] : [Workload.Ascii, Workload.Profiles];
            return Interleaved.Run(count, rounds, workloads);
        }

        // The LightningDB peer must work before anything is measured; each benchmark process checks again in its setup.
        using (var scratch = new Scratch("check"))
        {
            Console.WriteLine(LmdbNative.SelfCheck(scratch.Path));
        }

        if (args.Length > 0 && args[0] == "lmdb-check")
        {
            return 0;
        }

        BenchConfig.UseWallClock = args.Contains(WallClockOption);
        // BenchmarkDotNet gives up on building its boilerplate project after 2 minutes by default;
        // on a busy 2-core machine that build can take longer.
        IConfig config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(15));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. args.Where(a => a != WallClockOption)], config);
        return 0;
    }
}
