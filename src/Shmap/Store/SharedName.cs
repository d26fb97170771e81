using System.Text;
using Shmap.Format;

namespace Shmap.Store;

/// <summary>
/// Maps a shared name to its files. The name itself is the file name stem, so two different
/// names never share a file (no hashing of names). Files of a name N in the directory:
/// <c>N.shmap</c> (the current snapshot) and <c>N.lock</c> (publishers' lock and version word);
/// temporary files are <c>.N.*.tmp</c>.
/// </summary>
internal readonly record struct SharedName
{
    public const string SnapshotSuffix = ".shmap";
    public const string ControlSuffix = ".lock";
    public const string TempSuffix = ".tmp";

    private SharedName(string name, string directory)
    {
        Name = name;
        Directory = directory;
    }

    public string Name { get; }

    public string Directory { get; }

    public string SnapshotPath => Path.Combine(Directory, Name + SnapshotSuffix);

    public string ControlPath => Path.Combine(Directory, Name + ControlSuffix);

    /// <summary>A fresh temporary path for a snapshot being written.</summary>
    public string NewTempPath() => Path.Combine(Directory, $".{Name}.{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}");

    /// <summary>Validates <paramref name="name"/>; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public static SharedName Create(string name, SharedMapOptions? options, string paramName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        Validate(name, paramName);
        return new SharedName(name, (options ?? SharedMapOptions.Default).ResolvedDirectory);
    }

    /// <summary>Whether a file name in the directory is the snapshot of some name, and which.</summary>
    public static bool TryParseSnapshotFileName(string fileName, out string name)
    {
        name = string.Empty;
        if (!fileName.EndsWith(SnapshotSuffix, StringComparison.Ordinal) || fileName.Length == SnapshotSuffix.Length)
        {
            return false;
        }

        name = fileName[..^SnapshotSuffix.Length];
        return true;
    }

    private static void Validate(string name, string paramName)
    {
        if (name.Length == 0)
        {
            throw new ArgumentException("A shared map name cannot be empty.", paramName);
        }

        if (name is "." or "..")
        {
            throw new ArgumentException($"'{name}' cannot be a shared map name: it would name a directory.", paramName);
        }

        foreach (char c in name)
        {
            if (c == '/' || c == '\\')
            {
                throw new ArgumentException($"Shared map name '{name}' contains '{c}'; names are single file names (no directory separators).", paramName);
            }

            if (char.IsControl(c))
            {
                throw new ArgumentException($"Shared map name contains the control character U+{(int)c:X4}; use printable characters.", paramName);
            }
        }

        int bytes;
        try
        {
            bytes = Format.Utf8Text.Strict.GetByteCount(name);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("Shared map name has an unpaired surrogate; names must be valid Unicode.", paramName, e);
        }

        if (bytes > Constants.MaxNameBytes)
        {
            throw new ArgumentException($"Shared map name is {bytes} UTF-8 bytes long; the limit is {Constants.MaxNameBytes}.", paramName);
        }
    }
}
