using System.Text.Json;

namespace Shmap.Cli.Input;

/// <summary>
/// JSON Lines: one JSON value per line, either <c>{"key":"k","value":"v"}</c> (exactly those two
/// string properties, in any order) or <c>["k","v"]</c>. Blank lines are skipped.
/// </summary>
internal static class JsonLinesParser
{
    private const string Shape = "each line is {\"key\": \"…\", \"value\": \"…\"} or [\"key\", \"value\"]";

    public static void Read(Stream input, string source, IEntrySink sink, CancellationToken cancellation)
    {
        var lines = new LineReader(input);
        var key = new ByteBuilder();
        var value = new ByteBuilder();
        var options = new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow };
        while (lines.TryReadLine(out ReadOnlySpan<byte> line, out _))
        {
            long number = lines.LineNumber;
            if ((number & 0xFFF) == 0)
            {
                cancellation.ThrowIfCancellationRequested();
            }

            if (line.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }

            var reader = new Utf8JsonReader(line, options);
            try
            {
                ReadPair(ref reader, key, value, source, number);
            }
            catch (JsonException e)
            {
                throw new InputException(source, number, $"invalid JSON at column {e.BytePositionInLine + 1}: {JsonText.Reason(e)}");
            }

            sink.Add(key.Span, value.Span, number);
        }
    }

    private static void ReadPair(ref Utf8JsonReader reader, ByteBuilder key, ByteBuilder value, string source, long line)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            ExpectString(ref reader, source, line, "the first element (the key)");
            JsonText.CopyString(ref reader, key, source, line, "key");
            ExpectString(ref reader, source, line, "the second element (the value)");
            JsonText.CopyString(ref reader, value, source, line, "value");
            if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
            {
                throw new InputException(source, line, $"the array has more than two elements; {Shape}.");
            }
        }
        else if (reader.TokenType == JsonTokenType.StartObject)
        {
            bool hasKey = false;
            bool hasValue = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isKey = reader.ValueTextEquals("key"u8);
                if (!isKey && !reader.ValueTextEquals("value"u8))
                {
                    throw new InputException(source, line, $"unexpected property \"{reader.GetString()}\"; {Shape}.");
                }

                if (isKey ? hasKey : hasValue)
                {
                    throw new InputException(source, line, $"property \"{(isKey ? "key" : "value")}\" appears twice.");
                }

                ExpectString(ref reader, source, line, isKey ? "\"key\"" : "\"value\"");
                JsonText.CopyString(ref reader, isKey ? key : value, source, line, isKey ? "key" : "value");
                hasKey |= isKey;
                hasValue |= !isKey;
            }

            if (!hasKey || !hasValue)
            {
                throw new InputException(source, line, $"missing property \"{(hasKey ? "value" : "key")}\"; {Shape}.");
            }
        }
        else
        {
            throw new InputException(source, line, $"found {JsonText.Describe(reader.TokenType)}; {Shape}.");
        }

        // Anything after the value on the same line is an error (the reader throws for it).
        if (reader.Read())
        {
            throw new InputException(source, line, $"more than one JSON value on the line; {Shape}.");
        }
    }

    private static void ExpectString(ref Utf8JsonReader reader, string source, long line, string what)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.String)
        {
            string found = reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject ? "nothing" : JsonText.Describe(reader.TokenType);
            throw new InputException(source, line, $"{what} must be a string, found {found}.");
        }
    }
}
