using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Shmap.Platform;

/// <summary>
/// The file calls .NET does not expose, as the runtime's own interop declares them: descriptors
/// are passed as <see cref="SafeHandle"/>s (the marshaller keeps them alive across the call),
/// flags and errno values are named. Linux only: the flag values below are Linux's (two of them
/// differ between x86-64 and arm64, chosen at run time); <c>statx</c> has one layout on every
/// Linux architecture, unlike <c>struct stat</c>.
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class Interop
{
    internal static partial class Files
    {
        public const int ORdonly = 0x0;
        public const int ORdwr = 0x2;
        public const int OCreat = 0x40;
        public const int OExcl = 0x80;
        public const int ONonblock = 0x800;
        public const int OCloexec = 0x80000;

        private static readonly bool s_arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

        /// <summary>O_DIRECTORY: fail unless the path is a directory.</summary>
        public static int ODirectory => s_arm ? 0x4000 : 0x10000;

        /// <summary>O_NOFOLLOW: fail (ELOOP) when the last component is a symbolic link.</summary>
        public static int ONofollow => s_arm ? 0x8000 : 0x20000;

        public const int LockSh = 1;
        public const int LockEx = 2;
        public const int LockNb = 4;
        public const int LockUn = 8;

        public const int AtFdcwd = -100;
        public const int AtSymlinkNofollow = 0x100;
        public const int AtEmptyPath = 0x1000;
        public const uint StatxBasicStats = 0x7ff;

        public const int SIfmt = 0xF000;
        public const int SIfreg = 0x8000;
        public const int SIfdir = 0x4000;
        public const int SIflnk = 0xA000;
        public const int SIfifo = 0x1000;
        public const int SIfchr = 0x2000;
        public const int SIfblk = 0x6000;
        public const int SIfsock = 0xC000;

        /// <summary>The part of <c>struct statx</c> Shmap reads (offsets from linux/stat.h; 256 bytes in all).</summary>
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        public struct Statx
        {
            [FieldOffset(20)] public uint Uid;
            [FieldOffset(24)] public uint Gid;
            [FieldOffset(28)] public ushort Mode;
            [FieldOffset(32)] public ulong Inode;
            [FieldOffset(40)] public ulong Size;
            [FieldOffset(136)] public uint DevMajor;
            [FieldOffset(140)] public uint DevMinor;
        }

        /// <summary>open(2), retried on EINTR; -1 and errno on failure.</summary>
        public static SafeFileHandle Open(string path, int flags, int mode)
        {
            int fd;
            do
            {
                fd = NativeOpen(path, flags, mode);
            }
            while (fd < 0 && Errors.Last == Errors.EINTR);

            return new SafeFileHandle(fd, ownsHandle: true);
        }

        /// <summary>openat(2) relative to an open directory, retried on EINTR; an invalid handle and errno on failure.</summary>
        public static SafeFileHandle OpenAt(SafeFileHandle directory, string name, int flags, int mode)
        {
            int fd;
            do
            {
                fd = NativeOpenAt(directory, name, flags, mode);
            }
            while (fd < 0 && Errors.Last == Errors.EINTR);

            return new SafeFileHandle(fd, ownsHandle: true);
        }

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int NativeOpen(string path, int flags, int mode);

        [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int NativeOpenAt(SafeFileHandle directory, string name, int flags, int mode);

        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int FStatx(SafeFileHandle fd, string emptyPath, int flags, uint mask, out Statx result);

        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int StatxAt(SafeFileHandle directory, string name, int flags, uint mask, out Statx result);

        [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int MkDir(string path, int mode);

        [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
        public static partial int FChmod(SafeFileHandle fd, int mode);

        [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
        public static partial int Flock(SafeFileHandle fd, int operation);

        [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int RenameAt(SafeFileHandle fromDirectory, string from, SafeFileHandle toDirectory, string to);

        [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int UnlinkAt(SafeFileHandle directory, string name, int flags);

        [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
        public static partial int FUtimensNow(SafeFileHandle fd, nint timesNullForNow);

        [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
        public static partial int FAllocate(SafeFileHandle fd, int mode, long offset, long length);

        [LibraryImport("libc", EntryPoint = "geteuid")]
        public static partial uint GetEffectiveUserId();
    }
}
