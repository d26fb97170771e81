namespace Shmap.Cli.Input;

/// <summary>
/// TSV: one <c>KEY&lt;TAB&gt;VALUE</c> per line. Backslash escapes inside keys and values:
/// <c>\t</c> tab, <c>\n</c> newline, <c>\r</c> carriage return, <c>\\</c> backslash; any other
/// character after a backslash is an error. A line's one unescaped tab separates key from value.
/// A <c>\r</c> right before the <c>\n</c> is dropped (CRLF files); empty lines are skipped.
/// </summary>
internal static class TsvParser
{
    public const string EscapeHelp = @"the escapes are \t (tab), \n (newline), \r (carriage return) and \\ (backslash)";

    public static void Read(Stream input, string source, IEntrySink sink, CancellationToken cancellation)
    {
        var lines = new LineReader(input);
        var key = new ByteBuilder();
        var value = new ByteBuilder();
        while (lines.TryReadLine(out ReadOnlySpan<byte> line, out _))
        {
            long number = lines.LineNumber;
            if ((number & 0xFFF) == 0)
            {
                cancellation.ThrowIfCancellationRequested();
            }

            if (line.EndsWith((byte)'\r'))
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                continue;
            }

            int tab = line.IndexOf((byte)'\t');
            if (tab < 0)
            {
                throw new InputException(source, number, "no tab between key and value; each line is KEY<TAB>VALUE.");
            }

            ReadOnlySpan<byte> rawKey = line[..tab];
            ReadOnlySpan<byte> rawValue = line[(tab + 1)..];
            if (rawValue.Contains((byte)'\t'))
            {
                throw new InputException(source, number, @"more than one tab; a tab inside a key or value is written \t.");
            }

            if (!line.Contains((byte)'\\'))
            {
                sink.Add(rawKey, rawValue, number);
                continue;
            }

            Unescape(rawKey, key, source, number, "key");
            Unescape(rawValue, value, source, number, "value");
            sink.Add(key.Span, value.Span, number);
        }
    }

    /// <summary>Decodes the TSV escapes of one field given as a string (for keys read one a line).</summary>
    public static string Unescape(string text, string source, long line)
    {
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text;
        }

        var bytes = new ByteBuilder();
        Unescape(Encoding.UTF8.GetBytes(text), bytes, source, line, "key");
        return Encoding.UTF8.GetString(bytes.Span);
    }

    private static void Unescape(ReadOnlySpan<byte> text, ByteBuilder destination, string source, long line, string what)
    {
        destination.Clear();
        while (true)
        {
            int backslash = text.IndexOf((byte)'\\');
            if (backslash < 0)
            {
                destination.Append(text);
                return;
            }

            destination.Append(text[..backslash]);
            if (backslash + 1 == text.Length)
            {
                throw new InputException(source, line, $@"the {what} ends with a lone backslash; {EscapeHelp}.");
            }

            byte escaped = text[backslash + 1];
            destination.Append(escaped switch
            {
                (byte)'t' => (byte)'\t',
                (byte)'n' => (byte)'\n',
                (byte)'r' => (byte)'\r',
                (byte)'\\' => (byte)'\\',
                _ => throw new InputException(source, line, $@"unknown escape '\{Display.Char(text[(backslash + 1)..])}' in the {what}; {EscapeHelp}."),
            });
            text = text[(backslash + 2)..];
        }
    }
}
