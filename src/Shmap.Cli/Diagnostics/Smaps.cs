namespace Shmap.Cli.Diagnostics;

/// <summary>Resident (RSS) and proportional (PSS) bytes of one file's mappings in a process.</summary>
internal readonly record struct MappingMemory(long RssBytes, long PssBytes);

/// <summary>
/// Reads <c>/proc/PID/smaps</c>: the kernel's own count of how much of a mapping is in RAM (RSS)
/// and that count divided among the processes sharing each page (PSS).
/// </summary>
internal static class Smaps
{
    private static readonly System.Buffers.SearchValues<char> s_hex = System.Buffers.SearchValues.Create("0123456789abcdef");

    public static MappingMemory? Measure(int pid, string path)
    {
        long rss = 0;
        long pss = 0;
        bool inside = false;
        bool any = false;
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/smaps"))
            {
                if (IsMappingHeader(line))
                {
                    string trimmed = line.TrimEnd();
                    inside = trimmed.EndsWith(path, StringComparison.Ordinal) || trimmed.EndsWith(path + " (deleted)", StringComparison.Ordinal);
                    any |= inside;
                }
                else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
                {
                    rss += Kilobytes(line);
                }
                else if (inside && line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    pss += Kilobytes(line);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return any ? new MappingMemory(rss, pss) : null;
    }

    // "7f1c2a000000-7f1c2b000000 r--s 00000000 00:1a 1234   /dev/shm/shmap/x.shmap": the first field is a hex range.
    private static bool IsMappingHeader(string line)
    {
        int dash = line.IndexOf('-', StringComparison.Ordinal);
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        return dash > 0 && space > dash && !line.AsSpan(0, dash).ContainsAnyExcept(s_hex);
    }

    private static long Kilobytes(string line)
    {
        ReadOnlySpan<char> rest = line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim();
        int space = rest.IndexOf(' ');
        return long.TryParse(space < 0 ? rest : rest[..space], NumberStyles.None, CultureInfo.InvariantCulture, out long kb) ? kb * 1024 : 0;
    }
}
