namespace Shmap.Cli.Diagnostics;

/// <summary>One process that has a name's files mapped, found in <c>/proc/PID/maps</c>.</summary>
/// <param name="Pid">The process id.</param>
/// <param name="Command">Its command line (or name), shortened.</param>
/// <param name="Role">"current" (maps the published snapshot), "old" (maps a replaced one, shown "(deleted)" by the kernel) or "follower" (maps the control file only).</param>
/// <param name="MappedBytes">Bytes of its address space mapped to that file.</param>
/// <param name="OldVersion">For an old snapshot, its version when it could be read through /proc/PID/map_files.</param>
internal sealed record MappingProcess(int Pid, string Command, string Role, long MappedBytes, long? OldVersion);

/// <summary>
/// Finds the processes that have a snapshot mapped by scanning <c>/proc/*/maps</c> for its path,
/// the kernel's own record of every mapping. Processes we may not inspect are skipped silently.
/// </summary>
internal static class ProcMaps
{
    private const string DeletedSuffix = " (deleted)";

    public static IReadOnlyList<MappingProcess> Find(string snapshotPath, string controlPath)
    {
        var found = new List<MappingProcess>();
        if (!Directory.Exists("/proc"))
        {
            return found;
        }

        int self = Environment.ProcessId;
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == self)
            {
                continue;
            }

            long current = 0;
            long control = 0;
            var old = new Dictionary<string, long>(StringComparer.Ordinal);
            try
            {
                foreach (string line in File.ReadLines(Path.Combine(directory, "maps")))
                {
                    if (!TryParse(line, out string range, out long size, out string path))
                    {
                        continue;
                    }

                    if (path == snapshotPath)
                    {
                        current += size;
                    }
                    else if (path == snapshotPath + DeletedSuffix)
                    {
                        old[range] = size;
                    }
                    else if (path == controlPath)
                    {
                        control += size;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone, or not ours to read.
                continue;
            }

            if (current == 0 && old.Count == 0 && control == 0)
            {
                continue;
            }

            string command = CommandLine(directory);
            if (current > 0)
            {
                found.Add(new MappingProcess(pid, command, "current", current, null));
            }

            // A replaced snapshot may be mapped in pieces, and several replaced ones may be: one row per version.
            foreach (IGrouping<long?, KeyValuePair<string, long>> version in old.GroupBy(mapping => OldVersion(directory, mapping.Key)))
            {
                found.Add(new MappingProcess(pid, command, "old", version.Sum(mapping => mapping.Value), version.Key));
            }

            if (current == 0 && old.Count == 0)
            {
                found.Add(new MappingProcess(pid, command, "follower", control, null));
            }
        }

        return found;
    }

    /// <summary>Parses "start-end perms offset dev inode   path" (the path may contain spaces).</summary>
    private static bool TryParse(string line, out string range, out long size, out string path)
    {
        range = string.Empty;
        size = 0;
        path = string.Empty;
        ReadOnlySpan<char> rest = line;
        Span<Range> fields = stackalloc Range[6];
        int count = rest.Split(fields, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (count < 6)
        {
            return false;
        }

        // The path is everything after the fifth field and its padding.
        int pathStart = fields[4].End.GetOffset(line.Length);
        path = line[pathStart..].TrimStart(' ');
        if (path.Length == 0 || path[0] != '/')
        {
            return false;
        }

        range = line[fields[0]];
        int dash = range.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0
            || !long.TryParse(range.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long start)
            || !long.TryParse(range.AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long end))
        {
            return false;
        }

        size = end - start;
        return true;
    }

    private static string CommandLine(string directory)
    {
        try
        {
            string cmdline = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ').Trim();
            if (cmdline.Length == 0)
            {
                cmdline = File.ReadAllText(Path.Combine(directory, "comm")).Trim();
            }

            return cmdline.Length > 70 ? cmdline[..69] + "…" : cmdline;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }

    /// <summary>
    /// The version of a replaced snapshot, read through /proc/PID/map_files (the kernel's handle on
    /// the unlinked file; needs the right to inspect that process). Null when it cannot be read.
    /// </summary>
    private static long? OldVersion(string directory, string range)
    {
        try
        {
            using SharedMap map = SharedMap.OpenFile(Path.Combine(directory, "map_files", range));
            return map.Version;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ShmapException)
        {
            return null;
        }
    }
}
