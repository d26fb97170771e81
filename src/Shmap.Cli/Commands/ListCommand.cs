using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap list</c>: every name published in the directory.</summary>
internal static class ListCommand
{
    public static Command Create(CliApp app)
    {
        Option<bool> json = Common.JsonOption("Print a JSON array of {name, version, entries, bytes, publishedAt}.");
        var command = new Command("list", "List every shared map in the directory: name, version, entries, bytes, publish time.")
        {
            json,
        };
        command.Aliases.Add("ls");
        app.SetAction(
            command,
            ["shmap list", "shmap list --dir /dev/shm/myapp", "shmap list --json | jq -r '.[].name'"],
            (context, parseResult) => Run(context, parseResult.GetValue(json)));
        return command;
    }

    private static int Run(CliContext context, bool json)
    {
        var rows = new List<Row>();
        foreach (SharedMapInfo info in SharedMap.List(context.Options))
        {
            rows.Add(new Row(info.Name, info.Version, info.Count, info.ByteLength, info.PublishedAt, info.Problem));
        }

        rows.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        if (json)
        {
            WriteJson(context, rows);
        }
        else if (rows.Count == 0)
        {
            context.Error.WriteLine($"no shared maps in {context.Directory}");
        }
        else
        {
            WriteTable(context, rows);
        }

        return ExitCodes.Ok;
    }

    private static void WriteTable(CliContext context, List<Row> rows)
    {
        var table = new Table().Border(context.Streams.OutputIsTerminal ? TableBorder.Rounded : TableBorder.None)
            .AddColumn("NAME")
            .AddColumn(new TableColumn("VERSION").RightAligned())
            .AddColumn(new TableColumn("ENTRIES").RightAligned())
            .AddColumn(new TableColumn("BYTES").RightAligned())
            .AddColumn("PUBLISHED (UTC)");
        foreach (Row row in rows)
        {
            if (row.Problem is not null)
            {
                table.AddRow(Markup.Escape(Display.Name(row.Name)), "?", "?", Display.Bytes(row.Bytes), "[red]unreadable: " + Markup.Escape(row.Problem) + "[/]");
            }
            else
            {
                table.AddRow(Markup.Escape(Display.Name(row.Name)), row.Version.ToString(CultureInfo.InvariantCulture), Display.Count(row.Entries), Display.Bytes(row.Bytes), Display.Time(row.PublishedAt));
            }
        }

        context.Write(table);
    }

    private static void WriteJson(CliContext context, List<Row> rows)
    {
        Stream output = context.DataOutput();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            foreach (Row row in rows)
            {
                writer.WriteStartObject();
                writer.WriteString("name", row.Name);
                writer.WriteNumber("version", row.Version);
                writer.WriteNumber("entries", row.Entries);
                writer.WriteNumber("bytes", row.Bytes);
                if (row.PublishedAt is { } at)
                {
                    writer.WriteString("publishedAt", at);
                }
                else
                {
                    writer.WriteNull("publishedAt");
                }

                if (row.Problem is not null)
                {
                    writer.WriteString("problem", row.Problem);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        output.Write("\n"u8);
        output.Flush();
    }

    private sealed record Row(string Name, long Version, int Entries, long Bytes, DateTimeOffset? PublishedAt, string? Problem);
}
