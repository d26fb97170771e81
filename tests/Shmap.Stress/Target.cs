namespace Shmap.Stress;

/// <summary>The shared name a verb works on: <c>--dir</c> (default <c>$SHMAP_DIR</c> or /dev/shm/shmap) and <c>--name</c>.</summary>
internal sealed record Target(string Directory, string Name)
{
    public SharedMapOptions Options { get; } = new() { Directory = Directory };

    public string SnapshotPath => Path.Combine(Directory, Name + ".shmap");

    public static Target FromOptions(Options options, string defaultName = "stress") =>
        new(Path.GetFullPath(options.String("dir", SharedMapOptions.Default.ResolvedDirectory)), options.String("name", defaultName));

    /// <summary>For verbs that own a whole scenario: <c>--dir</c>, or a fresh directory on tmpfs removed by <see cref="PrivateDirectory.Dispose"/>.</summary>
    public static (Target Target, PrivateDirectory? Owned) OwnedFromOptions(Options options, string defaultName)
    {
        string? dir = options.OptionalString("dir");
        string name = options.String("name", defaultName);
        if (dir is not null)
        {
            return (new Target(Path.GetFullPath(dir), name), null);
        }

        var owned = new PrivateDirectory();
        return (new Target(owned.Path, name), owned);
    }

    public string[] Arguments() => ["--dir", Directory, "--name", Name];
}

/// <summary>A fresh directory under /dev/shm, removed on dispose.</summary>
internal sealed class PrivateDirectory : IDisposable
{
    public PrivateDirectory()
    {
        Path = System.IO.Path.Combine("/dev/shm", "shmap-stress-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Starts this tool again as a child process (<c>dotnet Shmap.Stress.dll verb …</c>, or the apphost).</summary>
internal static class Self
{
    public static ChildProcess Start(string verb, IEnumerable<string> arguments, string? label = null)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        List<string> all = [];
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            all.Add(typeof(Self).Assembly.Location);
        }

        all.Add(verb);
        all.AddRange(arguments);
        return ChildProcess.Start(host, all, label ?? verb);
    }
}
