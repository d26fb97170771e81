using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Shmap.Cli.Diagnostics;
using Spectre.Console;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap info NAME</c>: everything about one published map, and who has it mapped.</summary>
internal static class InfoCommand
{
    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument();
        var noVerify = new Option<bool>("--no-verify") { Description = "Skip the full checksum and structure check (O(n log n); about 1 s per 10 million entries)." };
        Option<bool> json = Common.JsonOption();
        var command = new Command(
            "info",
            "Show a map's version, entries, size, publish time, format version, checksum state, and which processes have it mapped " +
            "(from /proc/*/maps; 'old' rows are processes still reading a replaced version).")
        {
            name,
            noVerify,
            json,
        };
        app.SetAction(
            command,
            ["shmap info cities", "shmap info cities --json | jq .mappedBy", "shmap info cities --no-verify"],
            (context, parseResult) => Run(context, parseResult.GetRequiredValue(name), !parseResult.GetValue(noVerify), parseResult.GetValue(json)));
        return command;
    }

    private static int Run(CliContext context, string name, bool verify, bool json)
    {
        using SharedMap map = Common.Open(context, name);
        string path = map.Path!;
        string? problem = null;
        TimeSpan verifyTime = default;
        if (verify)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                map.Verify();
            }
            catch (ShmapException e)
            {
                problem = e.Message;
            }

            verifyTime = clock.Elapsed;
        }

        int formatVersion = map.FormatVersion;
        IReadOnlyList<MappingProcess> mappers = ProcMaps.Find(path, SharedMap.ControlPathOf(name, context.Options));
        if (json)
        {
            WriteJson(context, map, formatVersion, verify, problem, mappers);
        }
        else
        {
            WriteTable(context, map, formatVersion, verify ? problem ?? $"ok (verified in {Display.Duration(verifyTime)})" : "not checked (--no-verify)", problem is not null, mappers);
        }

        if (problem is not null)
        {
            context.Error.WriteLine($"shmap: '{name}' is corrupt: {problem}");
            return ExitCodes.BadInput;
        }

        return ExitCodes.Ok;
    }

    private static void WriteTable(CliContext context, SharedMap map, int formatVersion, string checksum, bool corrupt, IReadOnlyList<MappingProcess> mappers)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string label, string value, string style = "") =>
            grid.AddRow(new Markup($"[bold]{label}[/]"), new Markup(style.Length == 0 ? Markup.Escape(value) : $"[{style}]{Markup.Escape(value)}[/]"));

        Row("name", map.Name ?? "-");
        Row("path", map.Path ?? "-");
        Row("version", map.Version.ToString(CultureInfo.InvariantCulture));
        Row("entries", Display.Count(map.Count));
        Row("bytes", $"{Display.Count(map.ByteLength)} ({Display.Bytes(map.ByteLength)})");
        Row("published", map.PublishedAt is { } at ? $"{Display.Time(at)} ({Ago(DateTimeOffset.UtcNow - at)})" : "-");
        Row("format", $"version {formatVersion}");
        Row("checksum", checksum, corrupt ? "red" : "green");
        int processes = mappers.Select(m => m.Pid).Distinct().Count();
        Row("mapped by", processes == 0 ? "no other process" : processes == 1 ? "1 process" : $"{processes} processes");
        context.Write(grid);
        if (mappers.Count > 0)
        {
            var table = new Table().Border(context.Streams.OutputIsTerminal ? TableBorder.Rounded : TableBorder.None)
                .AddColumn("PID").AddColumn("MAPS").AddColumn(new TableColumn("BYTES").RightAligned()).AddColumn("COMMAND");
            foreach (MappingProcess mapper in mappers.OrderBy(m => m.Pid))
            {
                string role = mapper.Role switch
                {
                    "current" => $"v{map.Version} (current)",
                    "old" => mapper.OldVersion is { } v ? $"v{v} (replaced)" : "replaced version",
                    _ => "control file (following)",
                };
                table.AddRow(
                    mapper.Pid.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(role),
                    Display.Bytes(mapper.MappedBytes),
                    Markup.Escape(mapper.Command));
            }

            context.Write(table);
        }
    }

    private static void WriteJson(CliContext context, SharedMap map, int formatVersion, bool verified, string? problem, IReadOnlyList<MappingProcess> mappers)
    {
        Stream output = context.DataOutput();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("name", map.Name);
            writer.WriteString("path", map.Path);
            writer.WriteNumber("version", map.Version);
            writer.WriteNumber("entries", map.Count);
            writer.WriteNumber("bytes", map.ByteLength);
            if (map.PublishedAt is { } at)
            {
                writer.WriteString("publishedAt", at);
            }
            else
            {
                writer.WriteNull("publishedAt");
            }

            writer.WriteNumber("formatVersion", formatVersion);
            writer.WriteString("checksum", !verified ? "unchecked" : problem is null ? "ok" : "corrupt");
            if (problem is not null)
            {
                writer.WriteString("problem", problem);
            }

            writer.WriteStartArray("mappedBy");
            foreach (MappingProcess mapper in mappers.OrderBy(m => m.Pid))
            {
                writer.WriteStartObject();
                writer.WriteNumber("pid", mapper.Pid);
                writer.WriteString("role", mapper.Role);
                if (mapper.Role == "current")
                {
                    writer.WriteNumber("version", map.Version);
                }
                else if (mapper.OldVersion is { } v)
                {
                    writer.WriteNumber("version", v);
                }

                writer.WriteNumber("mappedBytes", mapper.MappedBytes);
                writer.WriteString("command", mapper.Command);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        output.Write("\n"u8);
        output.Flush();
    }

    private static string Ago(TimeSpan age) => age.TotalSeconds switch
    {
        < 0 => "in the future: clocks disagree",
        < 60 => $"{(int)age.TotalSeconds} s ago",
        < 3600 => $"{(int)age.TotalMinutes} min ago",
        < 172800 => $"{(int)age.TotalHours} h ago",
        _ => $"{(int)age.TotalDays} days ago",
    };
}
