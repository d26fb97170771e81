using System.CommandLine;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap load NAME FILE</c>: publish a snapshot file after checking all of it.</summary>
internal static class LoadCommand
{
    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument("Name to publish under.");
        var file = new Argument<string>("FILE") { Description = "A snapshot file (from 'shmap dump' or SharedMapBuilder.WriteTo), or - for stdin." };
        var force = new Option<bool>("--force") { Description = "If NAME exists, publish over it as its next version." };
        var command = new Command(
            "load",
            "Publish a snapshot file under NAME after verifying all of it (checksum, structure). An invalid file is rejected and NAME is left as it was.")
        {
            name,
            file,
            force,
        };
        app.SetAction(
            command,
            ["shmap load cities cities.shmap", "shmap load cities cities.shmap --force", "ssh host shmap dump cities - | shmap load cities - --force"],
            (context, parseResult) => Run(context, parseResult.GetRequiredValue(name), parseResult.GetRequiredValue(file), parseResult.GetValue(force)));
        return command;
    }

    private static int Run(CliContext context, string name, string file, bool force)
    {
        if (SharedMap.Exists(name, context.Options) && !force)
        {
            throw new SharedMapExistsException(name, Common.SnapshotPath(context, name));
        }

        string? temp = null;
        try
        {
            string path = file;
            if (file == "-")
            {
                // Import reads a file: spool stdin to one first.
                temp = Path.Combine(Path.GetTempPath(), $"shmap-load-{Environment.ProcessId}-{Guid.NewGuid():N}.shmap");
                using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                context.Streams.Input.CopyTo(stream);
                path = temp;
            }
            else if (!File.Exists(file))
            {
                throw new CliException(ExitCodes.NotFound, $"no such file: {file}");
            }

            long version;
            try
            {
                version = Common.Publishing(context, name, () => SharedMap.Import(name, path, force, context.Options));
            }
            catch (Exception e) when (e is SnapshotFormatException or SnapshotVersionException)
            {
                throw new CliException(ExitCodes.BadInput, $"{(temp is null ? file : "stdin")} is not a valid snapshot; nothing was published ('{name}' is unchanged). {e.Message}", e);
            }

            using SharedMap map = SharedMap.Open(name, context.Options);
            context.Out.WriteLine($"loaded {(temp is null ? file : "stdin")} as '{name}' version {version}: {Display.Entries(map.Count)}, {Display.Bytes(map.ByteLength)}");
            return ExitCodes.Ok;
        }
        finally
        {
            if (temp is not null)
            {
                File.Delete(temp);
            }
        }
    }
}
