using Shmap.Format;

namespace Shmap;

/// <summary>
/// Where shared names live and who may read them. Every call that takes a name takes these
/// options; <see langword="null"/> means <see cref="Default"/>.
/// </summary>
public sealed record SharedMapOptions
{
    /// <summary>
    /// Options from the environment: the directory is <c>$SHMAP_DIR</c> when set, else
    /// <c>/dev/shm/shmap</c> (tmpfs, so the files are shared memory); files are owner-only.
    /// Read at each use, so a changed environment variable takes effect.
    /// </summary>
    public static SharedMapOptions Default => new();

    /// <summary>Directory that holds the files of every name; <see langword="null"/> for <c>$SHMAP_DIR</c> or <c>/dev/shm/shmap</c>.</summary>
    public string? Directory { get; init; }

    /// <summary>
    /// Permissions of the files a publish creates. Owner read/write (0600) by default; add
    /// <see cref="UnixFileMode.GroupRead"/> or <see cref="UnixFileMode.OtherRead"/> to let other
    /// users open the map. Only read/write bits are allowed.
    /// </summary>
    public UnixFileMode FileMode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The directory in effect.</summary>
    public string ResolvedDirectory
    {
        get
        {
            if (!string.IsNullOrEmpty(Directory))
            {
                return Directory;
            }

            string? fromEnvironment = Environment.GetEnvironmentVariable(Constants.DirectoryVariable);
            return string.IsNullOrEmpty(fromEnvironment) ? Constants.DefaultDirectory : fromEnvironment;
        }
    }
}
