using Spectre.Console;
using Spectre.Console.Rendering;

namespace Shmap.Cli;

/// <summary>What a verb needs to run: streams, the directory of names, flags shared by every verb.</summary>
internal sealed class CliContext
{
    public required CliStreams Streams { get; init; }

    /// <summary>Text to stdout (UTF-8). Flushed at the end of the run.</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Text to stderr (UTF-8, flushed at once).</summary>
    public required TextWriter Error { get; init; }

    /// <summary>The directory and permissions every library call gets (from --dir, else SHMAP_DIR, else /dev/shm/shmap).</summary>
    public required SharedMapOptions Options { get; init; }

    public bool Verbose { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>The directory in effect, for messages.</summary>
    public string Directory => Options.ResolvedDirectory;

    /// <summary>
    /// The raw stdout stream for data (exports, dumps), after flushing <see cref="Out"/> so text and
    /// data keep their order. The caller flushes, never closes, what it writes.
    /// </summary>
    public Stream DataOutput()
    {
        Out.Flush();
        return Streams.Output;
    }

    /// <summary>A Spectre console over stdout: colours and borders only on a terminal.</summary>
    public IAnsiConsole OutConsole() => CreateConsole(Out, Streams.OutputIsTerminal);

    /// <summary>A Spectre console over stderr (progress bars), live only on a terminal.</summary>
    public IAnsiConsole ErrorConsole() => CreateConsole(Error, Streams.ErrorIsTerminal);

    /// <summary>
    /// Writes a table or grid to stdout: with borders and colours on a terminal; as plain aligned
    /// columns without trailing blanks when redirected, so <c>awk</c> and <c>cut</c> can read it.
    /// </summary>
    public void Write(IRenderable renderable)
    {
        if (Streams.OutputIsTerminal)
        {
            OutConsole().Write(renderable);
            return;
        }

        using var buffer = new StringWriter(CultureInfo.InvariantCulture);
        CreateConsole(buffer, terminal: false).Write(renderable);
        List<string> lines = buffer.ToString().Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[0].Length == 0)
        {
            lines.RemoveAt(0);
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        int indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart(' ').Length).DefaultIfEmpty(0).Min();
        foreach (string line in lines)
        {
            Out.WriteLine(line.Length >= indent ? line[indent..] : line);
        }
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool terminal)
    {
        bool color = terminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });

        // Our writer is not Console.Out, so Spectre cannot see the window: tell it the width.
        console.Profile.Width = terminal ? TerminalWidth() : 200;
        return console;
    }

    private static int TerminalWidth()
    {
        try
        {
            int width = Console.WindowWidth;
            return width > 20 ? width : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
