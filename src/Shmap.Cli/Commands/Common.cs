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
    public static SharedMap Open(CliContext context, string name) => SharedMap.Open(name, context.Options);

    /// <summary>The file a name's snapshot lives in (for messages and /proc scans).</summary>
    public static string SnapshotPath(CliContext context, string name) => Path.Combine(context.Directory, name + ".shmap");

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

    /// <summary>Opens a file to read, mapping "no such file" to exit code 1.</summary>
    public static FileStream OpenInputFile(string path)
    {
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
