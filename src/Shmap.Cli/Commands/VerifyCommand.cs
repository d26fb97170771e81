using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap verify NAME|FILE</c>: check a snapshot completely.</summary>
internal static class VerifyCommand
{
    public static Command Create(CliApp app)
    {
        var target = new Argument<string>("NAME|FILE")
        {
            Description = "A shared name, or a snapshot file. An argument with a '/' is a file; otherwise a published name wins over a file of the same name.",
        };
        var file = new Option<bool>("--file") { Description = "Treat the argument as a file path even without a '/'." };
        Option<bool> json = Common.JsonOption();
        var command = new Command(
            "verify",
            "Check a snapshot completely: header, body checksum, every record, key order, UTF-8, hash slots. Exit code 3 if anything is wrong.")
        {
            target,
            file,
            json,
        };
        app.SetAction(
            command,
            ["shmap verify cities", "shmap verify ./cities.shmap", "shmap verify backup.shmap --file"],
            (context, parseResult) => Run(context, parseResult.GetRequiredValue(target), parseResult.GetValue(file), parseResult.GetValue(json)));
        return command;
    }

    private static int Run(CliContext context, string target, bool forceFile, bool json)
    {
        bool isFile = forceFile || target.Contains('/', StringComparison.Ordinal) || !IsPublishedName(context, target);
        if (isFile && !File.Exists(target))
        {
            throw isFile && (forceFile || target.Contains('/', StringComparison.Ordinal))
                ? new CliException(ExitCodes.NotFound, $"no such file: {target}")
                : new CliException(ExitCodes.NotFound, $"'{target}' is neither a shared map in {context.Directory} nor a file.");
        }

        string label = isFile ? target : $"'{target}'";
        var clock = Stopwatch.StartNew();
        SharedMap map;
        try
        {
            map = isFile ? SharedMap.OpenFile(target) : SharedMap.Open(target, context.Options);
        }
        catch (ShmapException e)
        {
            return Report(context, json, label, null, e.Message, clock.Elapsed);
        }

        using (map)
        {
            try
            {
                map.Verify();
            }
            catch (ShmapException e)
            {
                return Report(context, json, label, map, e.Message, clock.Elapsed);
            }

            return Report(context, json, label, map, null, clock.Elapsed);
        }
    }

    private static bool IsPublishedName(CliContext context, string target)
    {
        try
        {
            return SharedMap.Exists(target, context.Options);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static int Report(CliContext context, bool json, string label, SharedMap? map, string? problem, TimeSpan elapsed)
    {
        if (json)
        {
            Stream output = context.DataOutput();
            using (var writer = new Utf8JsonWriter(output))
            {
                writer.WriteStartObject();
                writer.WriteString("target", label.Trim('\''));
                writer.WriteBoolean("ok", problem is null);
                if (map is not null)
                {
                    writer.WriteNumber("version", map.Version);
                    writer.WriteNumber("entries", map.Count);
                    writer.WriteNumber("bytes", map.ByteLength);
                }

                if (problem is not null)
                {
                    writer.WriteString("problem", problem);
                }

                writer.WriteEndObject();
            }

            output.Write("\n"u8);
            output.Flush();
        }
        else if (problem is null)
        {
            context.Out.WriteLine($"ok: {label} version {map!.Version}, {Display.Entries(map.Count)}, {Display.Bytes(map.ByteLength)}, verified in {Display.Duration(elapsed)}");
        }

        if (problem is not null)
        {
            context.Error.WriteLine($"shmap: {label} is not a valid snapshot: {problem}");
            return ExitCodes.BadInput;
        }

        return ExitCodes.Ok;
    }
}
