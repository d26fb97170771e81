using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using Shmap.Cli.Input;

namespace Shmap.Cli;

/// <summary>Entry point of <c>shmap</c>. <see cref="RunAsync"/> is the whole CLI as a function, for tests.</summary>
internal static class Program
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>How long an interrupted run may take to clean up before the process exits anyway.</summary>
    private static readonly TimeSpan s_gracePeriod = TimeSpan.FromSeconds(5);

    public static async Task<int> Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();

        // Ctrl+C and SIGTERM cancel the run so verbs clean up (demo removes its names and readers,
        // watch ends). A verb blocked where it cannot see the cancellation (reading a silent stdin)
        // is ended after a grace period; a second signal ends the process at once.
        void Interrupt(Action keepRunning)
        {
            if (cancellation.IsCancellationRequested)
            {
                return;
            }

            keepRunning();
            cancellation.Cancel();
            _ = Task.Delay(s_gracePeriod).ContinueWith(_ => Environment.Exit(ExitCodes.Interrupted), TaskScheduler.Default);
        }

        ConsoleCancelEventHandler onCancel = (_, e) => Interrupt(() => e.Cancel = true);
        Console.CancelKeyPress += onCancel;
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Interrupt(() => context.Cancel = true));
        try
        {
            return await RunAsync(args, CliStreams.FromConsole(), cancellation.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Runs one command line against the given streams and returns the exit code. Never throws.</summary>
    public static async Task<int> RunAsync(string[] args, CliStreams streams, CancellationToken cancellation = default)
    {
        // Flushed at each write: messages keep their order with stderr; bulk data goes through DataOutput().
        using var output = new StreamWriter(streams.Output, s_utf8, 1 << 16, leaveOpen: true) { AutoFlush = true };
        using var error = new StreamWriter(streams.Error, s_utf8, 1 << 12, leaveOpen: true) { AutoFlush = true };
        var app = new CliApp(streams, output, error);
        ParseResult parseResult = app.Root.Parse(args);
        bool verbose = parseResult.GetValue(app.Verbose);
        int code;
        if (parseResult.Action is ParseErrorAction)
        {
            code = ReportParseErrors(parseResult, error);
        }
        else
        {
            try
            {
                var configuration = new InvocationConfiguration
                {
                    Output = output,
                    Error = error,
                    EnableDefaultExceptionHandler = false,
                    ProcessTerminationTimeout = null,
                };
                code = await parseResult.InvokeAsync(configuration, cancellation);
            }
            catch (Exception e)
            {
                code = ReportException(e, error, verbose, CommandPath(parseResult.CommandResult.Command), cancellation);
            }
        }

        try
        {
            await output.FlushAsync(CancellationToken.None);
        }
        catch (IOException e) when (IsBrokenPipe(e))
        {
            // The reader went away (`shmap scan x | head`): not an error of ours.
        }

        return code;
    }

    private static int ReportParseErrors(ParseResult parseResult, TextWriter error)
    {
        foreach (string message in parseResult.Errors.Select(e => e.Message).Distinct())
        {
            error.WriteLine("shmap: " + message);
        }

        string verb = CommandPath(parseResult.CommandResult.Command);
        error.WriteLine($"Run '{verb} --help' for usage and examples.");
        return ExitCodes.Usage;
    }

    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is Command c; symbol = c.Parents.FirstOrDefault())
        {
            names.Add(c.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>Maps an exception to its exit code and one line on stderr (the whole exception with --verbose).</summary>
    internal static int ReportException(Exception e, TextWriter error, bool verbose, string verb, CancellationToken cancellation)
    {
        (int code, string message) = e switch
        {
            CliException cli => (cli.ExitCode, cli.Message),
            InputException input => (ExitCodes.BadInput, input.Message),
            SharedMapNotFoundException notFound => (ExitCodes.NotFound, $"no shared map named '{notFound.Name}' in {Path.GetDirectoryName(notFound.Path)} ('shmap list' shows what there is; --dir or SHMAP_DIR choose the directory)."),
            SharedMapExistsException exists => (ExitCodes.Exists, $"a shared map named '{exists.Name}' already exists in {Path.GetDirectoryName(exists.Path)}; pass --force to publish over it as its next version, or 'shmap rm {exists.Name}' first."),
            SnapshotFormatException or SnapshotVersionException => (ExitCodes.BadInput, e.Message),
            UntrustedFileException or SharedMapLockTimeoutException => (ExitCodes.IOError, e.Message),
            OperationCanceledException when cancellation.IsCancellationRequested => (ExitCodes.Interrupted, "interrupted."),
            ArgumentException argument => (ExitCodes.Usage, WithoutParameterName(argument)),
            UnauthorizedAccessException => (ExitCodes.IOError, e.Message),
            IOException io when IsBrokenPipe(io) => (ExitCodes.Ok, string.Empty),
            IOException => (ExitCodes.IOError, e.Message),
            _ => (ExitCodes.Internal, $"internal error ({e.GetType().Name}): {e.Message} Rerun with --verbose and report it."),
        };

        try
        {
            if (message.Length > 0)
            {
                error.WriteLine("shmap: " + message);
            }

            if (code == ExitCodes.Usage)
            {
                error.WriteLine($"Run '{verb} --help' for usage and examples.");
            }

            if (verbose)
            {
                error.WriteLine(e.ToString());
            }
        }
        catch (IOException)
        {
            // stderr is gone too: the exit code is all that is left.
        }

        return code;
    }

    private static string WithoutParameterName(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);

    /// <summary>EPIPE: the other end of a pipe was closed.</summary>
    internal static bool IsBrokenPipe(IOException e) => e.HResult == 32 || e.Message.Contains("Broken pipe", StringComparison.OrdinalIgnoreCase);
}
