using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Shmap.Platform;

/// <summary>mmap, munmap and madvise with Linux's flag values (the same on x86-64 and arm64).</summary>
[SupportedOSPlatform("linux")]
internal static partial class Interop
{
    internal static partial class Memory
    {
        public const int ProtRead = 0x1;
        public const int MapShared = 0x01;
        public const int MapPrivate = 0x02;
        public const int MapFixed = 0x10;
        public const int MapAnonymous = 0x20;
        public const int MapNoReserve = 0x4000;
        public const int MadvPopulateWrite = 23;
        public const nint MapFailed = -1;

        [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
        public static partial nint Mmap(nint address, nuint length, int protection, int flags, SafeFileHandle fd, long offset);

        [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
        public static partial nint MmapAnonymous(nint address, nuint length, int protection, int flags, int minusOne, long offset);

        [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
        public static partial int Munmap(nint address, nuint length);

        [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
        public static partial int Madvise(nint address, nuint length, int advice);
    }
}
