using System.CommandLine;
using Shmap.Cli.Output;

namespace Shmap.Cli.Commands;

/// <summary>Arguments, options and helpers several verbs share.</summary>
internal static class Common
{
    public static Argument<string> NameArgument(string description = "The shared map's name.") => new("NAME") { Description = description };

    public static Option<bool> JsonOption(string description = "Print the result as one JSON object, for scripts.") => new("--json") { Description = description };

    public static Option<string> FormatOption(string defaultValue, string description, params string[] names)
    {
        var option = new Option<string>("--format", "-f")
        {
            Description = description,
            HelpName = string.Join('|', names),
            DefaultValueFactory = _ => defaultValue,
        };
        option.AcceptOnlyFromAmong(names);
        return option;
    }

    /// <summary>Opens a map by name (not found: exit code 1, with the directory in the message).</summary>
    public static SharedMap Open(CliContext context, string name)
    {
        try
        {
            return SharedMap.Open(name, context.Options);
        }
        catch (Exception e) when (e is SnapshotFormatException or SnapshotVersionException)
        {
            throw new CliException(ExitCodes.BadInput, $"the snapshot published as '{name}' ({SnapshotPath(context, name)}) cannot be read: {e.Message}", e);
        }
    }

    /// <summary>The file a name's snapshot lives in (for messages and /proc scans), as the library lays it out.</summary>
    public static string SnapshotPath(CliContext context, string name) => SharedMap.SnapshotPathOf(name, context.Options);

    /// <summary>Writes entries in a format to stdout; returns how many.</summary>
    public static long WriteEntries(CliContext context, IEnumerable<KeyValuePair<string, string>> entries, OutputFormat format, long limit = long.MaxValue)
    {
        Stream output = context.DataOutput();
        using var writer = new EntryWriter(output, format);
        if (limit > 0)
        {
            foreach (KeyValuePair<string, string> entry in entries)
            {
                writer.Write(entry.Key, entry.Value);
                if ((writer.Count & 0x3FF) == 0)
                {
                    context.Cancellation.ThrowIfCancellationRequested();
                }

                if (writer.Count >= limit)
                {
                    break;
                }
            }
        }

        writer.Complete();
        return writer.Count;
    }

    /// <summary>
    /// Runs a publish (share, publish, import), saying which name and directory an I/O or
    /// permission error was about: the library's own message names only a file.
    /// </summary>
    public static T Publishing<T>(CliContext context, string name, Func<T> publish)
    {
        try
        {
            return publish();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !(e is IOException io && Program.IsBrokenPipe(io)))
        {
            throw new CliException(ExitCodes.IOError, $"could not publish '{name}' in {context.Directory}: {e.Message}", e);
        }
    }

    /// <summary>Opens a file to read, mapping "no such file" to exit code 1.</summary>
    public static FileStream OpenInputFile(string path)
    {
        if (Directory.Exists(path))
        {
            throw new CliException(ExitCodes.Usage, $"{path} is a directory; give a file, or - for stdin.");
        }

        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliException(ExitCodes.NotFound, $"no such file: {path}", e);
        }
    }
}
