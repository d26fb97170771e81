using System.Globalization;

namespace Shmap.Stress;

/// <summary>
/// Accounts for the memory a directory on tmpfs holds, from /proc: its files, plus files already
/// unlinked from it that some process still maps or holds open (tmpfs frees a file's pages only when
/// the last of those goes). statvfs of /dev/shm would count every other user of it too.
/// </summary>
internal static class ProcMemory
{
    private const long Page = 4096;

    /// <summary>One mapped file of the directory in one process.</summary>
    public readonly record struct Mapping(long Inode, string Path, bool Deleted, long Bytes, long End);

    /// <summary>Mappings of files under <paramref name="directory"/> in process <paramref name="pid"/>, merged per file; empty when unreadable.</summary>
    public static List<Mapping> MappedFiles(int pid, string directory)
    {
        string prefix = directory.TrimEnd('/') + "/";
        var byInode = new Dictionary<long, Mapping>();
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid}/maps");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        foreach (string line in lines)
        {
            // start-end perms offset dev inode path
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6)
            {
                continue;
            }

            string path = fields[5].Trim();
            if (!path.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            bool deleted = path.EndsWith(" (deleted)", StringComparison.Ordinal);
            if (deleted)
            {
                path = path[..^" (deleted)".Length];
            }

            string[] range = fields[0].Split('-');
            long start = long.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long end = long.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long offset = long.Parse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long inode = long.Parse(fields[4], CultureInfo.InvariantCulture);
            Mapping mapping = byInode.TryGetValue(inode, out Mapping known)
                ? known with { Bytes = known.Bytes + (end - start), End = Math.Max(known.End, offset + end - start) }
                : new Mapping(inode, path, deleted, end - start, offset + end - start);
            byInode[inode] = mapping;
        }

        return [.. byInode.Values];
    }

    /// <summary>Bytes of snapshot (<c>.shmap</c>) files mapped by <paramref name="pid"/> from the directory, and how many files.</summary>
    public static (long Bytes, int Files) SnapshotBytesMapped(int pid, string directory)
    {
        long bytes = 0;
        int files = 0;
        foreach (Mapping mapping in MappedFiles(pid, directory))
        {
            if (mapping.Path.EndsWith(".shmap", StringComparison.Ordinal))
            {
                bytes += mapping.Bytes;
                files++;
            }
        }

        return (bytes, files);
    }

    /// <summary>Whether <paramref name="pid"/> maps the file now at <paramref name="path"/> (not an unlinked one of that name).</summary>
    public static bool MapsCurrent(int pid, string directory, string path) =>
        MappedFiles(pid, directory).Any(m => !m.Deleted && m.Path == path);

    /// <summary>
    /// tmpfs bytes held by the directory: its files (page-rounded) plus unlinked files of it still
    /// mapped (by <paramref name="mappers"/>, all readable processes when null) or held open (by
    /// <paramref name="openers"/>: only processes that open the directory's files can, and reading
    /// every descriptor of every process is slow), each inode once.
    /// </summary>
    public static (long Bytes, int Unlinked) DirectoryUsage(string directory, IReadOnlyList<int> openers, IEnumerable<int>? mappers = null)
    {
        long bytes = 0;
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            try
            {
                bytes += RoundUp(new FileInfo(file).Length);
            }
            catch (FileNotFoundException)
            {
                // Renamed or removed meanwhile.
            }
        }

        var unlinked = new Dictionary<long, long>();
        foreach (int pid in mappers ?? AllPids())
        {
            foreach (Mapping mapping in MappedFiles(pid, directory))
            {
                if (mapping.Deleted)
                {
                    unlinked[mapping.Inode] = Math.Max(unlinked.GetValueOrDefault(mapping.Inode), RoundUp(mapping.End));
                }
            }
        }

        foreach (int pid in openers)
        {
            foreach ((long inode, long length) in OpenUnlinkedFiles(pid, directory))
            {
                unlinked[inode] = Math.Max(unlinked.GetValueOrDefault(inode), RoundUp(length));
            }
        }

        return (bytes + unlinked.Values.Sum(), unlinked.Count);
    }

    private static IEnumerable<(long Inode, long Length)> OpenUnlinkedFiles(int pid, string directory)
    {
        string prefix = directory.TrimEnd('/') + "/";
        string[] fds;
        try
        {
            fds = Directory.GetFiles($"/proc/{pid}/fd");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (string fd in fds)
        {
            (long Inode, long Length)? found = null;
            try
            {
                string? target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith(prefix, StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal))
                {
                    long length = new FileInfo(fd).Length;
                    string? ino = File.ReadLines($"/proc/{pid}/fdinfo/{Path.GetFileName(fd)}").FirstOrDefault(static l => l.StartsWith("ino:", StringComparison.Ordinal));
                    found = (ino is null ? -fd.GetHashCode() : long.Parse(ino[4..].Trim(), CultureInfo.InvariantCulture), length);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Closed meanwhile.
            }

            if (found is { } pair)
            {
                yield return pair;
            }
        }
    }

    private static IEnumerable<int> AllPids()
    {
        foreach (string entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                yield return pid;
            }
        }
    }

    private static long RoundUp(long bytes) => (bytes + Page - 1) / Page * Page;
}
