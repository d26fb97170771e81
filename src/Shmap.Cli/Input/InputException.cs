namespace Shmap.Cli.Input;

/// <summary>Malformed input: names the line (1-based) and says what is wrong and how to fix it.</summary>
internal sealed class InputException : Exception
{
    public InputException(string source, long line, string reason)
        : base(line > 0 ? $"{source}:{line}: {reason}" : $"{source}: {reason}")
    {
        InputName = source;
        Line = line;
        Reason = reason;
    }

    /// <summary>The input's name as given (a path, or "stdin").</summary>
    public string InputName { get; }

    /// <summary>The line the problem is on (1-based), 0 when it is about the whole input.</summary>
    public long Line { get; }

    public string Reason { get; }
}
