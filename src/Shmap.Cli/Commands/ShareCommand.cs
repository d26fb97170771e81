using System.CommandLine;
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Shmap.Cli.Input;
using Shmap.Cli.Output;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap share NAME FILE</c>: read pairs from a file or stdin and publish them.</summary>
internal static class ShareCommand
{
    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument("Name to publish under (a file name: no '/', at most 200 UTF-8 bytes).");
        var file = new Argument<string>("FILE") { Description = "Input file (.tsv .csv .jsonl .json, optionally .gz), or - for stdin." };
        var format = new Option<string?>("--format", "-f")
        {
            Description = "Input format (default: from FILE's extension; tsv for stdin). See docs/CLI.md for the escaping rules.",
            HelpName = DataFormats.InputNames,
        };
        format.AcceptOnlyFromAmong("tsv", "csv", "jsonl", "json");
        var force = new Option<bool>("--force") { Description = "If NAME exists, publish over it as its next version (readers switch atomically)." };
        var lastWins = new Option<bool>("--last-wins") { Description = "A key that appears twice keeps its last value (default: a duplicate key is an error)." };
        var allowEmpty = new Option<bool>("--allow-empty") { Description = "Share an empty map when the input has no entries (default: an error, so a failed producer cannot wipe a map)." };
        Option<bool> json = Common.JsonOption();
        var command = new Command(
            "share",
            "Read key/value pairs from FILE (or - for stdin) and publish them under NAME. " +
            "All or nothing: a malformed line is reported with its line number and nothing is published.")
        {
            name,
            file,
            format,
            force,
            lastWins,
            allowEmpty,
            json,
        };
        app.SetAction(
            command,
            [
                "shmap share cities cities.tsv",
                "shmap share cities cities.csv --force           # publish version 2 over version 1",
                "printf 'aaa\\t323\\nzb\\t1233\\n' | shmap share test -",
                "zcat big.jsonl.gz | shmap share big - --format jsonl",
            ],
            (context, parseResult) => Run(
                context,
                parseResult.GetRequiredValue(name),
                parseResult.GetRequiredValue(file),
                parseResult.GetValue(format),
                parseResult.GetValue(force),
                parseResult.GetValue(lastWins),
                parseResult.GetValue(allowEmpty),
                parseResult.GetValue(json)));
        return command;
    }

    private static int Run(CliContext context, string name, string file, string? formatName, bool force, bool lastWins, bool allowEmpty, bool json)
    {
        // Fail on a bad or taken name before reading what may be a big input. Share checks again, atomically.
        if (SharedMap.Exists(name, context.Options) && !force)
        {
            throw new SharedMapExistsException(name, Common.SnapshotPath(context, name));
        }

        bool stdin = file == "-";
        string source = stdin ? "stdin" : file;
        DataFormat format = formatName is not null ? DataFormats.Parse(formatName)
            : stdin ? DataFormat.Tsv
            : DataFormats.FromExtension(file) ?? throw new CliException(ExitCodes.Usage, $"cannot tell the format of '{file}' from its extension; pass --format {DataFormats.InputNames}.");

        Stream raw = stdin ? context.Streams.Input : Common.OpenInputFile(file);
        try
        {
            long? total = raw.CanSeek ? raw.Length : null;
            var counting = new CountingStream(raw);
            using Stream input = file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) && raw is FileStream gz ? new GzipInput(gz, counting, source) : counting;
            var builder = new SharedMapBuilder();
            var sink = new BuilderSink(builder, source, lastWins);
            string phase = "reading";
            var clock = Stopwatch.StartNew();
            TimeSpan readTime = default;

            long version = ProgressDisplay.Run(
                context,
                () =>
                {
                    try
                    {
                        EntryReader.Read(input, format, source, sink, context.Cancellation);
                    }
                    catch (InvalidDataException e)
                    {
                        throw new InputException(source, 0, $"not valid gzip data ({e.Message})");
                    }

                    readTime = clock.Elapsed;
                    if (builder.Count == 0 && !allowEmpty)
                    {
                        throw new InputException(source, 0, "no entries in the input; nothing was published (pass --allow-empty to share an empty map).");
                    }

                    context.Cancellation.ThrowIfCancellationRequested();
                    Volatile.Write(ref phase, "publishing");
                    return Common.Publishing(context, name, () =>
                    {
                        if (force)
                        {
                            return builder.Publish(name, context.Options);
                        }

                        builder.Share(name, force: false, context.Options);
                        using SharedMap shared = SharedMap.Open(name, context.Options);
                        return shared.Version;
                    });
                },
                () => new ProgressState(Volatile.Read(ref phase), counting.BytesRead, total, sink.Pairs, "entries"));

            TimeSpan elapsed = clock.Elapsed;
            long bytes = new FileInfo(Common.SnapshotPath(context, name)).Length;
            if (json)
            {
                WriteJson(context, name, version, builder.Count, bytes, counting.BytesRead, sink.Duplicates, elapsed);
            }
            else
            {
                string duplicates = sink.Duplicates > 0 ? $", {Display.Count(sink.Duplicates)} duplicate keys (last won)" : string.Empty;
                context.Out.WriteLine(
                    $"shared '{name}' version {version}: {Display.Entries(builder.Count)}, {Display.Bytes(bytes)} snapshot " +
                    $"(read {Display.Bytes(counting.BytesRead)} of {format.ToString().ToLowerInvariant()} in {Display.Duration(readTime)}, published in {Display.Duration(elapsed - readTime)}{duplicates})");
            }

            return ExitCodes.Ok;
        }
        finally
        {
            if (!stdin)
            {
                raw.Dispose();
            }
        }
    }

    private static void WriteJson(CliContext context, string name, long version, int entries, long bytes, long inputBytes, long duplicates, TimeSpan elapsed)
    {
        Stream output = context.DataOutput();
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteNumber("version", version);
            writer.WriteNumber("entries", entries);
            writer.WriteNumber("bytes", bytes);
            writer.WriteNumber("inputBytes", inputBytes);
            writer.WriteNumber("duplicates", duplicates);
            writer.WriteNumber("seconds", Math.Round(elapsed.TotalSeconds, 3));
            writer.WriteEndObject();
        }

        output.Write("\n"u8);
        output.Flush();
    }
}
