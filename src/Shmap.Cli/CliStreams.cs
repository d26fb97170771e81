namespace Shmap.Cli;

/// <summary>
/// The standard streams one run of the CLI uses: the process's own in <see cref="Program.Main"/>,
/// in-memory ones in tests. Data output goes to <see cref="Output"/> as UTF-8 bytes.
/// </summary>
internal sealed class CliStreams
{
    public required Stream Input { get; init; }

    public required Stream Output { get; init; }

    public required Stream Error { get; init; }

    /// <summary>Whether stdout is a terminal: colours, tables with borders.</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>Whether stderr is a terminal: progress bars are drawn there.</summary>
    public bool ErrorIsTerminal { get; init; }

    /// <summary>The real console of this process.</summary>
    public static CliStreams FromConsole() => new()
    {
        Input = Console.OpenStandardInput(),
        Output = Console.OpenStandardOutput(),
        Error = Console.OpenStandardError(),
        OutputIsTerminal = !Console.IsOutputRedirected,
        ErrorIsTerminal = !Console.IsErrorRedirected,
    };
}
