using System.CommandLine;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Shmap.Nats;

namespace Shmap.Cli.Commands;

/// <summary><c>shmap push NAME --nats URL</c>: upload a published map (or a snapshot file) to the fleet's bucket.</summary>
internal static class PushCommand
{
    public static Command Create(CliApp app)
    {
        Argument<string> name = Common.NameArgument("Name of the map: the local name pushed, and the object's name in the bucket.");
        var file = new Option<string?>("--file") { Description = "Push this snapshot file (from 'shmap dump' or SharedMapBuilder.WriteTo) as NAME instead of the local map.", HelpName = "FILE" };
        var replicas = new Option<int>("--replicas") { Description = "Replicas of the bucket when this push creates it (3 on a 3-node cluster).", HelpName = "N", DefaultValueFactory = _ => 1 };
        Option<bool> json = Common.JsonOption();
        var command = new Command(
            "push",
            "Upload the map published as NAME to a NATS JetStream Object Store bucket, for 'shmap sync' agents on other hosts. Bytes the bucket already holds are not sent again.")
        {
            name,
            file,
            replicas,
            json,
        };
        NatsOptions nats = NatsOptions.AddTo(command);
        app.SetAction(
            command,
            ["shmap push prices --nats nats://nats1:4222", "shmap push prices --file prices.shmap --nats nats://a:4222,nats://b:4222 --bucket maps", "shmap push prices --nats nats://a:4222 --creds ~/.nats/shmap.creds"],
            (context, parseResult) => RunAsync(context, nats.ToNatsOpts(parseResult, "shmap push", retryOnInitialConnect: false), parseResult.GetValue(nats.Bucket)!, parseResult.GetRequiredValue(name), parseResult.GetValue(file), parseResult.GetValue(replicas), parseResult.GetValue(json)));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, NatsOpts opts, string bucket, string name, string? file, int replicas, bool json)
    {
        if (file is not null && !File.Exists(file))
        {
            throw new CliException(ExitCodes.NotFound, $"no such file: {file}");
        }

        await using NatsConnection connection = await NatsOptions.ConnectAsync(opts, context.Cancellation);
        var pusher = new ShmapPusher(connection, bucket, replicas);
        PushResult result;
        try
        {
            result = file is null
                ? await pusher.PushAsync(name, context.Options, context.Cancellation)
                : await pusher.PushFileAsync(name, file, context.Cancellation);
        }
        catch (NatsJSException e)
        {
            throw new CliException(ExitCodes.IOError, $"could not push '{name}' to bucket '{bucket}' at {opts.Url}: {e.Message}", e);
        }

        if (json)
        {
            context.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
            {
                name = result.Name,
                fleetVersion = result.FleetVersion,
                uploaded = result.Uploaded,
                superseded = result.Superseded,
                entries = result.Entries,
                bytes = result.Bytes,
                digest = result.Digest,
                seconds = Math.Round(result.Elapsed.TotalSeconds, 3),
            }));
        }
        else if (result.Uploaded)
        {
            string superseded = result.Superseded ? " (another push stored a newer version meanwhile)" : string.Empty;
            context.Out.WriteLine($"pushed '{name}' to bucket '{bucket}' as fleet version {result.FleetVersion}{superseded}: {Display.Entries(result.Entries)}, {Display.Bytes(result.Bytes)} in {Display.Duration(result.Elapsed)}");
        }
        else
        {
            context.Out.WriteLine($"'{name}' unchanged: bucket '{bucket}' already holds these bytes as fleet version {result.FleetVersion}; nothing sent");
        }

        return ExitCodes.Ok;
    }
}
