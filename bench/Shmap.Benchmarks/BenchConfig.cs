using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Shmap.Benchmarks;

/// <summary>
/// Short jobs so that a full run stays practical on a 2-core machine: one launch, few warmups and
/// iterations. Loggers, columns and exporters (GitHub markdown among them) come from the default
/// config that <see cref="Program"/> passes to the switcher; a class only picks its job here.
/// </summary>
/// <remarks>
/// Jobs time with <see cref="ThreadCpuClock"/> (the benchmark thread's CPU time) unless
/// <see cref="UseWallClock"/> is set (<c>--wall-clock</c>): the machine these run on is shared with
/// parallel builds, and wall time there mostly measures how long the thread waited for a core.
/// </remarks>
public abstract class BenchConfig : ManualConfig
{
    protected BenchConfig(Job job)
    {
        job = job.WithLaunchCount(1);
        AddJob(UseWallClock || !ThreadCpuClock.Instance.IsAvailable ? job : job.WithClock(ThreadCpuClock.Instance));

        // Noisy machine: the median next to the mean shows when a few iterations were disturbed.
        AddColumn(StatisticColumn.Median);
    }

    /// <summary>Time with BenchmarkDotNet's default wall clock instead of thread CPU time.</summary>
    public static bool UseWallClock { get; set; }
}

/// <summary>Lookups: one invocation is a million lookups (milliseconds to a second), so few iterations suffice.</summary>
public sealed class LookupConfig : BenchConfig
{
    public LookupConfig()
        : base(Job.Default.WithId("Lookup").WithWarmupCount(2).WithIterationCount(10))
    {
    }
}

/// <summary>Open + Dispose takes microseconds: BenchmarkDotNet picks how many per iteration.</summary>
public sealed class OpenConfig : BenchConfig
{
    public OpenConfig()
        : base(Job.Default.WithId("Open").WithWarmupCount(3).WithIterationCount(15))
    {
    }
}

/// <summary>Share / ToFrozenDictionary of a million entries take hundreds of milliseconds: one per iteration.</summary>
public sealed class BuildConfig : BenchConfig
{
    public BuildConfig()
        : base(Job.Default.WithId("Build").WithWarmupCount(2).WithIterationCount(8).WithInvocationCount(1).WithUnrollFactor(1))
    {
    }
}
