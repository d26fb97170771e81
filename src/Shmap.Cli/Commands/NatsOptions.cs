using System.CommandLine;
using NATS.Client.Core;
using Shmap.Nats;

namespace Shmap.Cli.Commands;

/// <summary>
/// The options of the verbs that talk to NATS (push, sync, remote list): servers, bucket,
/// credentials and TLS as the NATS client takes them. Nothing secret is given on the command line:
/// a password or token comes from the environment or a file.
/// </summary>
internal sealed class NatsOptions
{
    public const string PasswordVariable = "NATS_PASSWORD";
    public const string TokenVariable = "NATS_TOKEN";
    public const string UrlVariable = "NATS_URL";

    private NatsOptions()
    {
    }

    public Option<string?> Url { get; } = new("--nats") { Description = $"NATS server URL(s), comma-separated (default: ${UrlVariable}).", HelpName = "URL" };

    public Option<string> Bucket { get; } = new("--bucket") { Description = "Object Store bucket of the maps.", HelpName = "B", DefaultValueFactory = _ => ShmapBucket.DefaultName };

    public Option<string?> Creds { get; } = new("--creds") { Description = "A NATS credentials file (JWT and NKey seed).", HelpName = "FILE" };

    public Option<string?> User { get; } = new("--user") { Description = $"User name; the password is read from ${PasswordVariable}.", HelpName = "USER" };

    public Option<string?> TokenFile { get; } = new("--token-file") { Description = $"A file holding the auth token (or set ${TokenVariable}).", HelpName = "FILE" };

    public Option<string?> TlsCa { get; } = new("--tls-ca") { Description = "CA certificates (PEM) to verify the server with; implies TLS.", HelpName = "FILE" };

    public Option<string?> TlsCert { get; } = new("--tls-cert") { Description = "Client certificate (PEM) for mutual TLS.", HelpName = "FILE" };

    public Option<string?> TlsKey { get; } = new("--tls-key") { Description = "Client key (PEM) for --tls-cert.", HelpName = "FILE" };

    public static NatsOptions AddTo(Command command)
    {
        var options = new NatsOptions();
        command.Options.Add(options.Url);
        command.Options.Add(options.Bucket);
        command.Options.Add(options.Creds);
        command.Options.Add(options.User);
        command.Options.Add(options.TokenFile);
        command.Options.Add(options.TlsCa);
        command.Options.Add(options.TlsCert);
        command.Options.Add(options.TlsKey);
        return options;
    }

    /// <summary>The connection options from the command line and the environment.</summary>
    public NatsOpts ToNatsOpts(ParseResult parseResult, string clientName, bool retryOnInitialConnect)
    {
        string? url = parseResult.GetValue(Url);
        if (string.IsNullOrEmpty(url))
        {
            url = Environment.GetEnvironmentVariable(UrlVariable);
        }

        if (string.IsNullOrEmpty(url))
        {
            throw new CliException(ExitCodes.Usage, $"give the NATS server with --nats URL (or set ${UrlVariable}), e.g. --nats nats://127.0.0.1:4222.");
        }

        string? token = Environment.GetEnvironmentVariable(TokenVariable);
        if (parseResult.GetValue(TokenFile) is { } tokenFile)
        {
            token = File.ReadAllText(tokenFile).Trim();
        }

        string? user = parseResult.GetValue(User);
        var auth = new NatsAuthOpts
        {
            CredsFile = parseResult.GetValue(Creds),
            Username = user,
            Password = user is null ? null : Environment.GetEnvironmentVariable(PasswordVariable),
            Token = string.IsNullOrEmpty(token) ? null : token,
        };
        string? ca = parseResult.GetValue(TlsCa);
        string? cert = parseResult.GetValue(TlsCert);
        string? key = parseResult.GetValue(TlsKey);
        NatsTlsOpts tls = ca is null && cert is null
            ? NatsTlsOpts.Default
            : new NatsTlsOpts { CaFile = ca, CertFile = cert, KeyFile = key, Mode = TlsMode.Require };
        return NatsOpts.Default with
        {
            Url = url,
            Name = clientName,
            AuthOpts = auth,
            TlsOpts = tls,
            RetryOnInitialConnect = retryOnInitialConnect,
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(200),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
        };
    }

    /// <summary>Connects, mapping a failure to exit code 5 with the servers in the message.</summary>
    public static async Task<NatsConnection> ConnectAsync(NatsOpts opts, CancellationToken cancellation)
    {
        var connection = new NatsConnection(opts);
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellation);
            return connection;
        }
        catch (NatsException e)
        {
            await connection.DisposeAsync();
            throw new CliException(ExitCodes.IOError, $"could not connect to NATS at {opts.Url}: {e.Message}", e);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
