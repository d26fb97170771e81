using System.Text;
using Shmap.Format;

namespace Shmap.Store;

/// <summary>
/// Maps a shared name to its files. The name itself is the file name stem, so two different
/// names never share a file (no hashing of names). Files of a name N in the directory:
/// <c>N.shmap</c> (the current snapshot), <c>N.lock</c> (the control file: version word) and
/// <c>N.wlock</c> (the publishers' lock); temporary files are <c>.N.*.tmp</c>.
/// </summary>
internal readonly record struct SharedName
{
    public const string SnapshotSuffix = ".shmap";
    public const string ControlSuffix = ".lock";
    public const string WriterLockSuffix = ".wlock";
    public const string TempSuffix = ".tmp";

    private SharedName(string name, SharedMapOptions options)
    {
        Name = name;
        Options = options;
        Directory = options.ResolvedDirectory;
    }

    public string Name { get; }

    public string Directory { get; }

    /// <summary>The options the name was given (trusted owners, lock timeout, file mode).</summary>
    public SharedMapOptions Options { get; }

    public string SnapshotFileName => Name + SnapshotSuffix;

    public string ControlFileName => Name + ControlSuffix;

    public string WriterLockFileName => Name + WriterLockSuffix;

    public string SnapshotPath => Path.Combine(Directory, SnapshotFileName);

    public string ControlPath => Path.Combine(Directory, ControlFileName);

    public string WriterLockPath => Path.Combine(Directory, WriterLockFileName);

    /// <summary>A fresh temporary file name (in <see cref="Directory"/>) for a snapshot being written.</summary>
    public string NewTempFileName() => $".{Name}.{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}";

    /// <summary>Validates <paramref name="name"/>; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public static SharedName Create(string name, SharedMapOptions? options, string paramName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        Validate(name, paramName);
        return new SharedName(name, options ?? SharedMapOptions.Default);
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

            // Format characters (bidi overrides and isolates such as U+202E, zero-width joiners, BOM)
            // make a name display as another one: "list" would show a spoofed name.
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
            {
                throw new ArgumentException($"Shared map name contains the invisible format character U+{(int)c:X4} (Unicode category Cf, e.g. a bidirectional override), which can make it display as another name; use visible characters.", paramName);
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
