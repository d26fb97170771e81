namespace Shmap.Cli;

/// <summary>The process exit codes of <c>shmap</c>; docs/CLI.md lists them. Scripts depend on them: never renumber.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The name (or, for <c>get</c>, a key, or for <c>verify</c>/<c>load</c> a file) does not exist.</summary>
    public const int NotFound = 1;

    /// <summary>The command line is wrong: unknown verb or option, missing argument, bad name.</summary>
    public const int Usage = 2;

    /// <summary>Bad input: a malformed line, an empty input, a corrupt or unsupported snapshot.</summary>
    public const int BadInput = 3;

    /// <summary>The name already exists and <c>--force</c> was not given.</summary>
    public const int Exists = 4;

    /// <summary>An I/O or permission error (disk full, directory not writable, …).</summary>
    public const int IOError = 5;

    /// <summary>A bug in shmap: an exception it did not expect. Rerun with --verbose and report it.</summary>
    public const int Internal = 70;

    /// <summary>Interrupted by Ctrl+C or SIGTERM before it finished (128 + SIGINT, as shells report).</summary>
    public const int Interrupted = 130;
}
