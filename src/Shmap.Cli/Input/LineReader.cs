namespace Shmap.Cli.Input;

/// <summary>
/// Reads UTF-8 bytes line by line without decoding them. A line ends at <c>\n</c>; the span
/// returned excludes it (a <c>\r</c> before it is left for the format to interpret). Lines may be
/// of any length: the buffer grows. A returned span is valid until the next call.
/// </summary>
internal sealed class LineReader
{
    private const int InitialBuffer = 1 << 16;

    private readonly Stream _stream;
    private byte[] _buffer = new byte[InitialBuffer];
    private int _start;
    private int _end;
    private int _scanned;
    private bool _eof;
    private bool _first = true;

    public LineReader(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>Number of the line last returned, 1-based.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Reads the next line; false at the end of the input.</summary>
    /// <param name="line">The line's bytes, without its <c>\n</c>.</param>
    /// <param name="terminated">Whether a <c>\n</c> ended it (false only for a last line without one).</param>
    public bool TryReadLine(out ReadOnlySpan<byte> line, out bool terminated)
    {
        while (true)
        {
            int found = _buffer.AsSpan(_scanned, _end - _scanned).IndexOf((byte)'\n');
            if (found >= 0)
            {
                int newline = _scanned + found;
                line = Take(newline - _start, 1);
                terminated = true;
                return true;
            }

            _scanned = _end;
            if (_eof)
            {
                if (_start < _end)
                {
                    line = Take(_end - _start, 0);
                    terminated = false;
                    return true;
                }

                line = default;
                terminated = false;
                return false;
            }

            Fill();
        }
    }

    private ReadOnlySpan<byte> Take(int length, int terminator)
    {
        ReadOnlySpan<byte> line = _buffer.AsSpan(_start, length);
        _start += length + terminator;
        _scanned = _start;
        LineNumber++;
        if (_first)
        {
            _first = false;
            if (line.StartsWith("\uFEFF"u8))
            {
                line = line[3..];
            }
        }

        return line;
    }

    private void Fill()
    {
        if (_start > 0)
        {
            // Slide the unfinished line to the front.
            int pending = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
            _scanned -= _start;
            _end = pending;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, checked(_buffer.Length * 2));
        }

        int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _eof = true;
        }
        else
        {
            _end += read;
        }
    }
}
