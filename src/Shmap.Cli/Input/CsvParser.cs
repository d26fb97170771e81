namespace Shmap.Cli.Input;

/// <summary>
/// CSV as RFC 4180 has it, two fields a record (key, value), no header. A field is quoted when it
/// starts with <c>"</c>; inside quotes <c>""</c> is a quote and commas, CR and LF are data.
/// Records end with LF or CRLF; a last record may lack it; empty lines are skipped.
/// </summary>
internal static class CsvParser
{
    private enum State
    {
        FieldStart,
        Unquoted,
        Quoted,
        AfterQuote,
    }

    public static void Read(Stream input, string source, IEntrySink sink, CancellationToken cancellation)
    {
        var lines = new LineReader(input);
        var key = new ByteBuilder();
        var value = new ByteBuilder();
        State state = State.FieldStart;
        int field = 0;
        long recordLine = 0;
        while (lines.TryReadLine(out ReadOnlySpan<byte> line, out bool terminated))
        {
            long number = lines.LineNumber;
            if ((number & 0xFFF) == 0)
            {
                cancellation.ThrowIfCancellationRequested();
            }

            if (state != State.Quoted)
            {
                // A new record starts on this line.
                if (line.IsEmpty || line.SequenceEqual("\r"u8))
                {
                    continue;
                }

                key.Clear();
                value.Clear();
                field = 0;
                recordLine = number;
                state = State.FieldStart;
            }

            for (int i = 0; i < line.Length; i++)
            {
                byte c = line[i];
                ByteBuilder current = field == 0 ? key : value;
                switch (state)
                {
                    case State.FieldStart when c == '"':
                        state = State.Quoted;
                        break;
                    case State.FieldStart or State.Unquoted when c == ',':
                    case State.AfterQuote when c == ',':
                        field++;
                        if (field > 1)
                        {
                            throw new InputException(source, number, "more than 2 fields; each record is key,value (quote a field that has a comma: \"a,b\").");
                        }

                        state = State.FieldStart;
                        break;
                    case State.FieldStart or State.Unquoted when c == '"':
                        throw new InputException(source, number, "a quote inside an unquoted field; quote the whole field and double the quotes in it: \"say \"\"hi\"\"\".");
                    case State.FieldStart or State.Unquoted when c == '\r' && i == line.Length - 1:
                        // The CR of a CRLF line ending.
                        break;
                    case State.FieldStart or State.Unquoted:
                        current.Append(c);
                        state = State.Unquoted;
                        break;
                    case State.Quoted when c == '"':
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            current.Append((byte)'"');
                            i++;
                        }
                        else
                        {
                            state = State.AfterQuote;
                        }

                        break;
                    case State.Quoted:
                        current.Append(c);
                        break;
                    case State.AfterQuote when c == '\r' && i == line.Length - 1:
                        break;
                    case State.AfterQuote:
                        throw new InputException(source, number, $"'{Display.Char(line[i..])}' after the closing quote of a field; a field ends at its closing quote (a quote inside a quoted field is written \"\").");
                }
            }

            if (state == State.Quoted)
            {
                if (!terminated)
                {
                    throw new InputException(source, recordLine, "a quoted field is not closed before the end of the input; close it with \".");
                }

                // The line break is part of the quoted field.
                (field == 0 ? key : value).Append((byte)'\n');
                continue;
            }

            if (field != 1)
            {
                throw new InputException(source, recordLine, "1 field; each record is key,value (two fields).");
            }

            sink.Add(key.Span, value.Span, recordLine);
        }

        if (state == State.Quoted)
        {
            // The input ended inside a quoted field whose last line had a line break.
            throw new InputException(source, recordLine, "a quoted field is not closed before the end of the input; close it with \".");
        }
    }
}
