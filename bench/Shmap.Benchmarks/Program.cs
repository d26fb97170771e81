using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Shmap.Benchmarks;

/// <summary>
/// Entry point. <c>size [N ...]</c> prints the snapshot size report; <c>lmdb-check</c> only checks
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
