using System.CommandLine;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Shmap.Nats;
using Spectre.Console;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap remote list --nats URL</c>: what the fleet's bucket holds.</summary>
internal static class RemoteCommand
{
    public static Command Create(CliApp app)
    {
        var remote = new Command("remote", "Look at the NATS JetStream bucket that 'shmap push' fills and 'shmap sync' follows.");
        Option<bool> json = Common.JsonOption("Print an array of {name, fleetVersion, deleted, entries, bytes, checksum, digest, storedAt, pushedAt, source, problem}.");
        var list = new Command("list", "Every name the bucket holds: fleet version, entries, size, when it was stored, where it came from.") { json };
        list.Aliases.Add("ls");
        NatsOptions nats = NatsOptions.AddTo(list);
        app.SetAction(
            list,
            ["shmap remote list --nats nats://nats1:4222", "shmap remote list --nats nats://nats1:4222 --bucket maps --json"],
            (context, parseResult) => RunAsync(context, nats.ToNatsOpts(parseResult, "shmap remote", retryOnInitialConnect: false), parseResult.GetValue(nats.Bucket)!, parseResult.GetValue(json)));
        remote.Subcommands.Add(list);
        app.SetAction(remote, ["shmap remote list --nats nats://nats1:4222"], (context, parseResult) => ThrowUsage());
        return remote;
    }

    private static int ThrowUsage() => throw new CliException(ExitCodes.Usage, "give a subcommand: shmap remote list --nats URL.");

    private static async Task<int> RunAsync(CliContext context, NatsOpts opts, string bucket, bool json)
    {
        await using NatsConnection connection = await NatsOptions.ConnectAsync(opts, context.Cancellation);
        IReadOnlyList<RemoteMap> maps;
        try
        {
            maps = await ShmapBucket.ListAsync(connection, bucket, context.Cancellation);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            throw new CliException(ExitCodes.NotFound, $"no bucket '{bucket}' at {opts.Url} ('shmap push' creates it).", e);
        }

        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(maps.Select(m => new
            {
                name = m.Name,
                fleetVersion = m.FleetVersion,
                deleted = m.Deleted,
                entries = m.Entries,
                bytes = m.Bytes,
                checksum = m.Checksum,
                digest = m.Digest,
                storedAt = m.StoredAt,
                pushedAt = m.PushedAt,
                source = m.Source,
                problem = m.Problem,
            })));
            return ExitCodes.Ok;
        }

        var table = new Table().Border(context.Streams.OutputIsTerminal ? TableBorder.Rounded : TableBorder.None);
        table.AddColumn("NAME");
        table.AddColumn(new TableColumn("FLEET VERSION").RightAligned());
        table.AddColumn(new TableColumn("ENTRIES").RightAligned());
        table.AddColumn(new TableColumn("BYTES").RightAligned());
        table.AddColumn("STORED (UTC)");
        table.AddColumn("SOURCE");
        foreach (RemoteMap m in maps)
        {
            string source = m.Deleted ? "(removed)" : m.Problem is { } problem ? "(" + problem + ")" : m.Source ?? "-";
            table.AddRow(
                Markup.Escape(Display.Name(m.Name)),
                m.FleetVersion.ToString(CultureInfo.InvariantCulture),
                m.Deleted ? "-" : Display.Count(m.Entries),
                m.Deleted ? "-" : Display.Bytes(m.Bytes),
                Display.Time(m.StoredAt),
                Markup.Escape(source));
        }

        context.Write(table);
        return ExitCodes.Ok;
    }
}
