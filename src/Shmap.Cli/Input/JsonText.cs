using System.Text.Json;

namespace Shmap.Cli.Input;

/// <summary>Helpers shared by the JSON readers.</summary>
internal static class JsonText
{
    /// <summary>Copies the current string token, unescaped, into <paramref name="destination"/>.</summary>
    public static void CopyString(ref Utf8JsonReader reader, ByteBuilder destination, string source, long line, string what)
    {
        destination.Clear();
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            destination.Append(reader.ValueSpan);
            return;
        }

        int length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        try
        {
            int written = reader.CopyString(destination.GetSpan(length));
            destination.Advance(written);
        }
        catch (InvalidOperationException e)
        {
            throw new InputException(source, line, $"the {what} is not valid Unicode text ({e.Message.TrimEnd('.')}); a \\u escape must not be half a surrogate pair.");
        }
    }

    /// <summary>The reader's message without its "LineNumber: … | BytePositionInLine: …" tail, which we say our way.</summary>
    public static string Reason(JsonException e)
    {
        string message = e.Message;
        int tail = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (tail >= 0)
        {
            message = message[..tail];
        }

        // Advice addressed to programmers, not to whoever wrote the input.
        return message.Replace(" Change the reader options.", string.Empty, StringComparison.Ordinal).TrimEnd();
    }

    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
