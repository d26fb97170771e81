using System.Globalization;
using System.Runtime.InteropServices;

namespace Shmap.Tests.Fuzz;

/// <summary>
/// Inaccessible (PROT_NONE) pages around bytes a reader is given, so that a read past either end is
/// a fault (the child process dies and the campaign reports the mutant) instead of a silent read of
/// whatever lies next in memory.
/// </summary>
internal static unsafe partial class GuardPages
{
    private const int ProtNone = 0;
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private const int MapNoReserve = 0x4000;

    public static readonly int PageSize = Environment.SystemPageSize;

    /// <summary>Rounds <paramref name="length"/> up to whole pages (at least one).</summary>
    public static long RoundUp(long length) => Math.Max(1, (length + PageSize - 1) / PageSize) * PageSize;

    /// <summary>
    /// Copies <paramref name="bytes"/> into a fresh area <c>[guard][pages][guard]</c>, flush against the
    /// trailing guard page: the byte after the last one faults. The leading guard sits before the first
    /// page of the area, so a read before the start faults once it leaves that page (the bytes start
    /// <c>RoundUp(length) - length</c> bytes into it).
    /// </summary>
    public static Guarded Copy(ReadOnlySpan<byte> bytes)
    {
        long inner = RoundUp(bytes.Length);
        nint area = Map((nuint)(inner + (2 * PageSize)), ProtNone);
        Check(Mprotect(area + PageSize, (nuint)inner, ProtRead | ProtWrite), "mprotect");
        byte* start = (byte*)(area + PageSize + (nint)(inner - bytes.Length));
        bytes.CopyTo(new Span<byte>(start, bytes.Length));
        Check(Mprotect(area + PageSize, (nuint)inner, ProtRead), "mprotect"); // the reader only reads
        return new Guarded(area, (nuint)(inner + (2 * PageSize)), (nint)start, bytes.Length);
    }

    /// <summary>
    /// Reserves <c>[guard][hole of RoundUp(length)][guard]</c> with the hole left unmapped, so that the
    /// next mapping of that size (the snapshot file <see cref="SharedMap.OpenFile"/> maps) is placed
    /// in it. Linux places a new mapping in the highest free gap it fits in; higher gaps of that size
    /// are filled first with inaccessible fillers (mapped until the hole is the one chosen, released
    /// with the guards), so the file lands in the hole unless another thread maps in between.
    /// <see cref="Hole.Holds"/> tells afterwards whether it landed there.
    /// </summary>
    public static Hole ReserveHole(long length)
    {
        long inner = RoundUp(length);
        nint area = Map((nuint)(inner + (2 * PageSize)), ProtNone);
        Check(Munmap(area + PageSize, (nuint)inner), "munmap");
        var fillers = new List<nint>();
        for (int i = 0; i < 256; i++)
        {
            nint probe = Map((nuint)inner, ProtNone);
            if (probe == area + PageSize)
            {
                Check(Munmap(probe, (nuint)inner), "munmap"); // the hole is now the first choice
                break;
            }

            fillers.Add(probe);
        }

        return new Hole(area, inner, fillers);
    }

    private static nint Map(nuint length, int protection)
    {
        nint address = Mmap(0, length, protection, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
        if (address == -1)
        {
            throw new InvalidOperationException($"mmap of {length} bytes failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return address;
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Bytes with a guard page right after them and one before their first page.</summary>
    internal sealed class Guarded(nint area, nuint areaLength, nint start, int length) : IDisposable
    {
        private nint _area = area;

        public ReadOnlySpan<byte> Span => new((void*)start, length);

        public void Dispose()
        {
            if (_area != 0)
            {
                _ = Munmap(_area, areaLength);
                _area = 0;
            }
        }
    }

    /// <summary>A hole between two guard pages, for a file mapping to land in.</summary>
    internal sealed class Hole(nint area, long inner, List<nint> fillers) : IDisposable
    {
        private bool _released;

        /// <summary>Whether the mapping at the hole is exactly the hole and maps <paramref name="path"/> (read from /proc/self/map_files).</summary>
        public bool Holds(string path)
        {
            long start = area + PageSize;
            string link = string.Create(CultureInfo.InvariantCulture, $"/proc/self/map_files/{start:x}-{start + inner:x}");
            try
            {
                return new FileInfo(link).LinkTarget == path;
            }
            catch (IOException)
            {
                return false;
            }
            catch (UnauthorizedAccessException)
            {
                return false;
            }
        }

        /// <summary>Reads the first byte of the trailing guard (for the self-test: this must fault).</summary>
        public byte ReadPastEnd() => *(byte*)(area + PageSize + (nint)inner);

        /// <summary>Unmaps the fillers and the two guards, not the hole: that belongs to whoever mapped into it.</summary>
        public void Dispose()
        {
            if (!_released)
            {
                _released = true;
                foreach (nint filler in fillers)
                {
                    _ = Munmap(filler, (nuint)inner);
                }

                _ = Munmap(area, (nuint)PageSize);
                _ = Munmap(area + PageSize + (nint)inner, (nuint)PageSize);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nuint length, int protection);
}
