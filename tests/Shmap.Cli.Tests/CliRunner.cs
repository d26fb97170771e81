namespace Shmap.Cli.Tests;

/// <summary>What one run of the CLI printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Err, byte[] OutBytes)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Err}";
}

/// <summary>Runs the real CLI in this process (Program.RunAsync) against in-memory streams.</summary>
public static class CliRunner
{
    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(args, stdin: (byte[]?)null);

    public static Task<CliResult> RunAsync(string[] args, string stdin) => RunAsync(args, Encoding.UTF8.GetBytes(stdin));

    public static async Task<CliResult> RunAsync(string[] args, byte[]? stdin, SyncStream? output = null, SyncStream? error = null, bool terminal = false, CancellationToken cancellation = default)
    {
        output ??= new SyncStream();
        error ??= new SyncStream();
        var streams = new CliStreams
        {
            Input = new MemoryStream(stdin ?? []),
            Output = output,
            Error = error,
            OutputIsTerminal = terminal,
            ErrorIsTerminal = terminal,
        };
        int code = await Program.RunAsync(args, streams, cancellation);
        return new CliResult(code, output.Text, error.Text, output.ToArray());
    }
}

/// <summary>A write-only in-memory stream that another thread may read while it is written (for watch and demo).</summary>
public sealed class SyncStream : Stream
{
    private readonly MemoryStream _inner = new();
    private readonly Lock _gate = new();

    public string Text => Encoding.UTF8.GetString(ToArray());

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length
    {
        get
        {
            lock (_gate)
            {
                return _inner.Length;
            }
        }
    }

    public override long Position
    {
        get => Length;
        set => throw new NotSupportedException();
    }

    public byte[] ToArray()
    {
        lock (_gate)
        {
            return _inner.ToArray();
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        lock (_gate)
        {
            _inner.Write(buffer, offset, count);
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            _inner.Write(buffer);
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Waits until the text contains <paramref name="expected"/>.</summary>
    public async Task WaitForAsync(string expected, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!Text.Contains(expected, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"'{expected}' did not appear within {timeout}; got:\n{Text}");
            }

            await Task.Delay(20);
        }
    }
}
