using System.Runtime.Versioning;
using Shmap.Platform;

namespace Shmap;

/// <summary>
/// Where shared names live, who may read them and whom to trust. Every call that takes a name
/// takes these options; <see langword="null"/> means <see cref="Default"/>.
/// </summary>
/// <remarks>
/// Trust model (README, "Trust"): a directory is used only when it is a real directory (not a
/// symbolic link) owned by this user, by root or by one of <see cref="TrustedOwners"/>, and not
/// writable by group or other unless it has the sticky bit; a snapshot or control file only when
/// it is a regular file with such an owner and no group/other write permission. Anything else is
/// refused with <see cref="UntrustedFileException"/>.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed record SharedMapOptions
{
    /// <summary>The environment variable that overrides the default directory.</summary>
    public const string DirectoryVariable = "SHMAP_DIR";

    /// <summary>
    /// Options from the environment: the directory is <c>$SHMAP_DIR</c> when set, else
    /// <c>$XDG_RUNTIME_DIR/shmap</c> when that is set, else <c>/dev/shm/shmap-UID</c> (tmpfs, so
    /// the files are shared memory; one directory per user, so no user can squat another's
    /// names); files are owner-only. Read at each use, so a changed environment variable takes
    /// effect.
    /// </summary>
    public static SharedMapOptions Default => new();

    /// <summary>Directory that holds the files of every name; <see langword="null"/> for the default (see <see cref="Default"/>).</summary>
    public string? Directory { get; init; }

    /// <summary>
    /// Permissions of the files a publish creates. Owner read/write (0600) by default; add
    /// <see cref="UnixFileMode.GroupRead"/> or <see cref="UnixFileMode.OtherRead"/> to let other
    /// users open the map. Only read/write bits are allowed, and never group/other write (readers
    /// refuse such files).
    /// </summary>
    public UnixFileMode FileMode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// User ids whose directories and files are trusted besides this process's effective user and
    /// root: a reader of a map that another user publishes for it lists that user here.
    /// </summary>
    public IReadOnlyList<int> TrustedOwners { get; init; } = [];

    /// <summary>
    /// How long a publish or delete waits for another publisher of the same name to finish before
    /// it fails with <see cref="SharedMapLockTimeoutException"/> (naming the holder's pid). 5 seconds by default.
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The directory in effect.</summary>
    public string ResolvedDirectory
    {
        get
        {
            if (!string.IsNullOrEmpty(Directory))
            {
                return Directory;
            }

            string? fromEnvironment = Environment.GetEnvironmentVariable(DirectoryVariable);
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                return fromEnvironment;
            }

            string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            if (!string.IsNullOrEmpty(runtime) && System.IO.Path.IsPathRooted(runtime))
            {
                return System.IO.Path.Combine(runtime, "shmap");
            }

            return string.Create(CultureInfo.InvariantCulture, $"/dev/shm/shmap-{Interop.Files.GetEffectiveUserId()}");
        }
    }
}
