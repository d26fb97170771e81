using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Shmap.Cli.Commands;

namespace Shmap.Cli;

/// <summary>
/// The command tree of one run: every verb, the options all verbs share (--dir, --verbose) and
/// help with examples. Built per run so that runs in one process (tests) share no state.
/// </summary>
internal sealed class CliApp
{
    private readonly Dictionary<Command, string[]> _examples = [];

    public CliApp(CliStreams streams, TextWriter output, TextWriter error)
    {
        Streams = streams;
        Out = output;
        Error = error;
        Dir = new Option<string?>("--dir")
        {
            Description = "Directory of the shared names (default: $SHMAP_DIR, else $XDG_RUNTIME_DIR/shmap, else /dev/shm/shmap-UID).",
            HelpName = "DIR",
            Recursive = true,
        };
        Mode = new Option<string?>("--mode")
        {
            Description = "Permissions of the files a publish creates, in octal (default 600; 640 or 644 let the group or every user read).",
            HelpName = "OCTAL",
            Recursive = true,
        };
        TrustOwner = new Option<int[]>("--trust-owner")
        {
            Description = "Also trust directories and files owned by this user id (repeatable), e.g. a map another user publishes for you.",
            HelpName = "UID",
            Recursive = true,
            AllowMultipleArgumentsPerToken = false,
        };
        Verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "On errors, print the full exception with its stack trace.",
            Recursive = true,
        };
        // A plain command named "shmap" rather than RootCommand, whose name is the executable's
        // (Shmap.Cli under dotnet run): help and errors say what users type.
        Root = new Command(
            "shmap",
            "shmap: share a read-mostly string map between processes through shared memory.\n" +
            "Every process maps the same immutable snapshot read-only; publishing a new version is atomic.")
        {
            Dir,
            Mode,
            TrustOwner,
            Verbose,
            new HelpOption(),
            new VersionOption(),
        };

        HelpOption help = Root.Options.OfType<HelpOption>().Single();
        help.Action = new ExamplesHelpAction((HelpAction)help.Action!, _examples);

        Add(ShareCommand.Create(this));
        Add(GetCommand.Create(this));
        Add(ScanCommand.Create(this));
        Add(CountCommand.Create(this));
        Add(InfoCommand.Create(this));
        Add(ListCommand.Create(this));
        Add(ExportCommand.Create(this));
        Add(DumpCommand.Create(this));
        Add(LoadCommand.Create(this));
        Add(VerifyCommand.Create(this));
        Add(RmCommand.Create(this));
        Add(WatchCommand.Create(this));
        Add(PushCommand.Create(this));
        Add(SyncCommand.Create(this));
        Add(RemoteCommand.Create(this));
        Add(DemoCommand.Create(this));
        Add(DemoReaderCommand.Create(this));

        _examples[Root] =
        [
            "shmap demo                              # see what it is for (no setup, ~30 s)",
            "shmap share cities cities.tsv           # publish a file under a name",
            "shmap get cities paris",
            "shmap scan cities --prefix par --limit 5",
            "shmap list",
        ];
        Root.SetAction(parseResult =>
        {
            // No verb: show the help and fail as a usage error, so scripts notice.
            Root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = Error, Error = Error });
            return ExitCodes.Usage;
        });
    }

    public CliStreams Streams { get; }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public Command Root { get; }

    public Option<string?> Dir { get; }

    /// <summary>--mode OCTAL: the file mode of what a publish creates.</summary>
    public Option<string?> Mode { get; }

    /// <summary>--trust-owner UID (repeatable): owners trusted besides this user and root.</summary>
    public Option<int[]> TrustOwner { get; }

    public Option<bool> Verbose { get; }

    /// <summary>Sets the action of a verb: builds its context and runs it.</summary>
    public void SetAction(Command command, string[] examples, Func<CliContext, ParseResult, Task<int>> run)
    {
        _examples[command] = examples;
        command.SetAction((parseResult, cancellation) => run(CreateContext(parseResult, cancellation), parseResult));
    }

    /// <summary>Same, for verbs that finish without waiting.</summary>
    public void SetAction(Command command, string[] examples, Func<CliContext, ParseResult, int> run) =>
        SetAction(command, examples, (context, parseResult) => Task.FromResult(run(context, parseResult)));

    public CliContext CreateContext(ParseResult parseResult, CancellationToken cancellation)
    {
        string? dir = parseResult.GetValue(Dir);
        return new CliContext
        {
            Streams = Streams,
            Out = Out,
            Error = Error,
            Options = new SharedMapOptions
            {
                Directory = string.IsNullOrEmpty(dir) ? null : Path.GetFullPath(dir),
                TrustedOwners = parseResult.GetValue(TrustOwner) ?? [],
                FileMode = ParseMode(parseResult.GetValue(Mode)),
            },
            Verbose = parseResult.GetValue(Verbose),
            Cancellation = cancellation,
        };
    }

    private void Add(Command command) => Root.Subcommands.Add(command);

    private static UnixFileMode ParseMode(string? octal)
    {
        if (string.IsNullOrEmpty(octal))
        {
            return UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        int mode = 0;
        foreach (char c in octal)
        {
            if (c is < '0' or > '7' || mode > 0xFFF)
            {
                throw new CliException(ExitCodes.Usage, $"--mode {octal}: give the mode in octal, e.g. 600 or 644.");
            }

            mode = (mode * 8) + (c - '0');
        }

        return (UnixFileMode)mode;
    }

    /// <summary>The default help, then an "Examples:" section for the verb.</summary>
    private sealed class ExamplesHelpAction(HelpAction inner, Dictionary<Command, string[]> examples) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            int result = inner.Invoke(parseResult);
            if (examples.TryGetValue(parseResult.CommandResult.Command, out string[]? lines) && lines.Length > 0)
            {
                TextWriter output = parseResult.InvocationConfiguration.Output;
                output.WriteLine("Examples:");
                foreach (string line in lines)
                {
                    output.WriteLine("  " + line);
                }

                output.WriteLine();
            }

            return result;
        }
    }
}
