namespace Shmap;

/// <summary>Tuning numbers, each with where it came from.</summary>
internal static class Constants
{
    /// <summary>
    /// Entries per home slot. At 0.75 the ordered linear-probe table averages about 2.5 slots per
    /// lookup (one cache line nearly always) and costs 10.7 bytes per entry, which keeps the whole
    /// snapshot under raw bytes + 20 per entry with 4-byte index entries and 1-byte lengths.
    /// </summary>
    public const double LoadFactor = 0.75;

    /// <summary>
    /// Keys a batched lookup keeps in flight: enough misses to fill the core's line-fill buffers
    /// (10–12 on current x64 cores) twice over, few enough that prefetched lines are still in L1/L2
    /// when they are used. Measured in bench/results (GetMany).
    /// </summary>
    public const int BatchChunk = 32;

    /// <summary>Keys up to this many UTF-16 chars are encoded on the stack for lookups (3 bytes a char at most).</summary>
    public const int StackKeyChars = 256;

    /// <summary>Default directory for names: tmpfs, so files there are shared memory.</summary>
    public const string DefaultDirectory = "/dev/shm/shmap";

    /// <summary>Environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string DirectoryVariable = "SHMAP_DIR";

    /// <summary>Longest name in UTF-8 bytes (keeps "name.shmap" and temp names under the 255-byte file name limit).</summary>
    public const int MaxNameBytes = 200;
}
