namespace Shmap.Store;

/// <summary>The names published in a directory: every <c>N.shmap</c> whose stem is a valid name (docs/FORMAT.md, "Publication").</summary>
internal static class NameListing
{
    /// <summary>One snapshot file found: its name, its length and when it was last written.</summary>
    public readonly record struct Entry(SharedName Name, long Length, DateTimeOffset LastModified);

    /// <summary>
    /// The snapshot files in <paramref name="options"/>' directory, in ordinal order of name; none
    /// when the directory does not exist. Files starting with '.' (temporary files) and stems that
    /// are not valid names are left out; a file removed while listing is skipped.
    /// </summary>
    public static IReadOnlyList<Entry> List(SharedMapOptions? options)
    {
        options ??= SharedMapOptions.Default;
        string directory = options.ResolvedDirectory;
        var entries = new List<Entry>();
        if (!Directory.Exists(directory))
        {
            return entries;
        }

        foreach (string path in Directory.EnumerateFiles(directory, "*" + SharedName.SnapshotSuffix))
        {
            string file = Path.GetFileName(path);
            if (file.StartsWith('.') || !SharedName.TryParseSnapshotFileName(file, out string stem))
            {
                continue;
            }

            SharedName name;
            try
            {
                name = SharedName.Create(stem, options);
            }
            catch (ArgumentException)
            {
                continue;
            }

            var info = new FileInfo(path);
            if (info.Exists)
            {
                entries.Add(new Entry(name, info.Length, info.LastWriteTimeUtc));
            }
        }

        entries.Sort(static (a, b) => string.CompareOrdinal(a.Name.Name, b.Name.Name));
        return entries;
    }
}
