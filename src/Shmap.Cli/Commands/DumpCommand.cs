using System.CommandLine;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap dump NAME FILE</c>: the raw snapshot bytes.</summary>
internal static class DumpCommand
{
    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument();
        var file = new Argument<string>("FILE") { Description = "Where to write the snapshot (created or replaced), or - for stdout." };
        var command = new Command(
            "dump",
            "Write the raw snapshot bytes of the published version to FILE: a backup, or a file to 'shmap load' elsewhere. The bytes are one consistent version even while others publish.")
        {
            name,
            file,
        };
        app.SetAction(
            command,
            ["shmap dump cities cities.shmap", "shmap dump cities - | gzip > cities.shmap.gz", "shmap dump cities b.shmap && shmap verify b.shmap"],
            (context, parseResult) =>
            {
                using SharedMap map = Common.Open(context, parseResult.GetRequiredValue(name));
                string path = parseResult.GetRequiredValue(file);
                if (path == "-")
                {
                    Stream output = context.DataOutput();
                    map.WriteTo(output);
                    output.Flush();
                    return ExitCodes.Ok;
                }

                // Write beside the target and rename, so FILE is never a partial snapshot.
                string temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
                try
                {
                    using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                    {
                        map.WriteTo(stream);
                    }

                    File.Move(temp, path, overwrite: true);
                }
                catch
                {
                    File.Delete(temp);
                    throw;
                }

                context.Out.WriteLine($"dumped '{map.Name}' version {map.Version} ({Display.Entries(map.Count)}, {Display.Bytes(map.ByteLength)}) to {path}");
                return ExitCodes.Ok;
            });
        return command;
    }
}
