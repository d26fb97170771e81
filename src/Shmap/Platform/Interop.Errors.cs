namespace Shmap.Platform;

/// <summary>
/// The errno values Shmap tells apart (Linux: the same numbers on x86-64 and arm64,
/// asm-generic/errno-base.h and errno.h).
/// </summary>
internal static partial class Interop
{
    internal static class Errors
    {
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int EINTR = 4;
        public const int ENXIO = 6;
        public const int EAGAIN = 11;
        public const int EWOULDBLOCK = EAGAIN;
        public const int EACCES = 13;
        public const int EEXIST = 17;
        public const int ENOTDIR = 20;
        public const int EISDIR = 21;
        public const int ENOSPC = 28;
        public const int ELOOP = 40;

        /// <summary>The calling thread's errno after a call marked <c>SetLastError = true</c>.</summary>
        public static int Last => Marshal.GetLastPInvokeError();

        /// <summary>An exception for a failed call: the path, what failed, the system's words and the number.</summary>
        public static Exception ToException(int errno, string what, string? path)
        {
            string message = path is null
                ? $"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})."
                : $"Cannot {what} '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).";
            return errno switch
            {
                ENOENT => new FileNotFoundException(message, path),
                EACCES or EPERM => new UnauthorizedAccessException(message),
                _ => new IOException(message, errno),
            };
        }
    }
}
