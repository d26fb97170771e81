using System.Text.Json;

namespace Shmap.Cli.Input;

/// <summary>
/// One JSON object whose members are the pairs: <c>{"k": "v", …}</c>; every value a string.
/// Streams with <see cref="Utf8JsonReader"/> over a sliding buffer, so the input can be larger
/// than memory would like; only the current member is held.
/// </summary>
internal static class JsonObjectParser
{
    private enum Phase
    {
        Start,
        Member,
        Value,
        Done,
    }

    public static void Read(Stream input, string source, IEntrySink sink, CancellationToken cancellation)
    {
        byte[] buffer = new byte[1 << 16];
        int filled = 0;
        bool final = false;
        var state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        var key = new ByteBuilder();
        var value = new ByteBuilder();
        Phase phase = Phase.Start;
        long line = 1;
        int counted = 0;
        bool first = true;

        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            int read = input.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                final = true;
            }

            if (first && read > 0)
            {
                first = false;
                if (buffer.AsSpan(0, read).StartsWith("\uFEFF"u8))
                {
                    buffer.AsSpan(3, read - 3).CopyTo(buffer);
                    read -= 3;
                }
            }

            filled += read;
            if (final && buffer.AsSpan(0, filled).Trim(" \t\r\n"u8).IsEmpty && phase == Phase.Start)
            {
                throw new InputException(source, 0, "the input is empty; a JSON input is one object {\"key\": \"value\", …}.");
            }

            var reader = new Utf8JsonReader(buffer.AsSpan(0, filled), final, state);
            try
            {
                while (reader.Read())
                {
                    line += buffer.AsSpan(counted, (int)reader.TokenStartIndex - counted).Count((byte)'\n');
                    counted = (int)reader.TokenStartIndex;
                    switch (phase)
                    {
                        case Phase.Start when reader.TokenType == JsonTokenType.StartObject:
                            phase = Phase.Member;
                            break;
                        case Phase.Start:
                            throw new InputException(source, line, $"the input starts with {JsonText.Describe(reader.TokenType)}; a JSON input is one object {{\"key\": \"value\", …}} (for one pair per line use --format jsonl).");
                        case Phase.Member when reader.TokenType == JsonTokenType.PropertyName:
                            JsonText.CopyString(ref reader, key, source, line, "key");
                            phase = Phase.Value;
                            break;
                        case Phase.Member:
                            // EndObject: the reader has checked the nesting.
                            phase = Phase.Done;
                            break;
                        case Phase.Value when reader.TokenType == JsonTokenType.String:
                            JsonText.CopyString(ref reader, value, source, line, "value");
                            sink.Add(key.Span, value.Span, line);
                            phase = Phase.Member;
                            break;
                        case Phase.Value:
                            throw new InputException(source, line, $"the value of {Display.Text(key.Span)} is {JsonText.Describe(reader.TokenType)}; values must be strings (write \"42\", not 42).");
                        case Phase.Done:
                            throw new InputException(source, line, "more data after the object; a JSON input is one object.");
                    }
                }
            }
            catch (JsonException e)
            {
                throw new InputException(source, (e.LineNumber ?? 0) + 1, $"invalid JSON at column {(e.BytePositionInLine ?? 0) + 1}: {JsonText.Reason(e)}");
            }

            int consumed = (int)reader.BytesConsumed;
            state = reader.CurrentState;
            if (final)
            {
                break;
            }

            line += buffer.AsSpan(counted, consumed - counted).Count((byte)'\n');
            buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
            filled -= consumed;
            counted = 0;
            if (filled == buffer.Length)
            {
                // One token is larger than the buffer.
                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }

        if (phase != Phase.Done)
        {
            throw new InputException(source, line, "the input ends before the object is closed.");
        }
    }
}
