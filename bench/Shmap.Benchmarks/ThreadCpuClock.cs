using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace Shmap.Benchmarks;

/// <summary>
/// CPU time of the calling thread, user and kernel (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>), in
/// nanoseconds. Time the thread spends descheduled is not counted; cache and memory interference
/// from other processes still is. Workstation GCs run on the allocating thread, so they count.
/// </summary>
public sealed class ThreadCpuClock : IClock
{
    private const int ClockThreadCpuTimeId = 3;

    public static readonly ThreadCpuClock Instance = new();

    public string Title => "Thread CPU time";

    public bool IsAvailable => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    public Frequency Frequency => Frequency.GHz;

    public long GetTimestamp()
    {
        if (ClockGetTime(ClockThreadCpuTimeId, out TimeSpec time) != 0)
        {
            throw new InvalidOperationException($"clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        return (time.Seconds * 1_000_000_000L) + time.Nanoseconds;
    }

    // struct timespec on 64-bit Linux: two 64-bit fields.
    [DllImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static extern int ClockGetTime(int clockId, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
