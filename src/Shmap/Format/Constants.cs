namespace Shmap.Format;

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
    /// Keys a batched lookup handles per segment (its hashes and candidates live on the stack: 4 KiB).
    /// </summary>
    public const int BatchChunk = 256;

    /// <summary>
    /// Keys <c>GetMany(string)</c> encodes, looks up and decodes at a time: small, so that the encoded
    /// keys and the values it decodes stay in cache between the steps (256 measured ~25% slower).
    /// </summary>
    public const int StringBatchChunk = 32;

    /// <summary>
    /// How many keys ahead a batched lookup prefetches a home slot or a candidate record: enough
    /// misses in flight to fill the core's miss buffers, few enough that the lines are still in
    /// L1/L2 when used. Measured in bench/results (GetMany).
    /// </summary>
    public const int BatchPrefetchDistance = 16;

    /// <summary>Keys up to this many UTF-16 chars are encoded on the stack for lookups (3 bytes a char at most).</summary>
    public const int StackKeyChars = 256;

    /// <summary>Default directory for names: tmpfs, so files there are shared memory.</summary>
    public const string DefaultDirectory = "/dev/shm/shmap";

    /// <summary>Environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string DirectoryVariable = "SHMAP_DIR";

    /// <summary>Longest name in UTF-8 bytes (keeps "name.shmap" and temp names under the 255-byte file name limit).</summary>
    public const int MaxNameBytes = 200;
}
