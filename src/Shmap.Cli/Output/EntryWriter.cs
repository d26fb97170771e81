using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Shmap.Cli.Output;

/// <summary>
/// Writes pairs to a byte stream in an <see cref="OutputFormat"/>. UTF-8, no BOM, LF line ends;
/// the escaping is exactly what the input parsers undo, so an export shares back unchanged.
/// </summary>
internal sealed class EntryWriter : IDisposable
{
    private static readonly JsonWriterOptions s_jsonOptions = new()
    {
        // Keep non-ASCII text readable (红, not \u7EA2); quotes, backslashes and control characters are still escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    private static readonly SearchValues<char> s_tsvSpecial = SearchValues.Create("\t\n\r\\");
    private static readonly SearchValues<char> s_csvSpecial = SearchValues.Create(",\"\r\n");

    private readonly Stream _stream;
    private readonly OutputFormat _format;
    private readonly ArrayBufferWriter<byte> _jsonBuffer = new(1024);
    private readonly Utf8JsonWriter? _json;
    private byte[] _buffer = new byte[1024];
    private bool _started;

    public EntryWriter(Stream destination, OutputFormat format)
    {
        _stream = new BufferedStream(destination, 1 << 16);
        _format = format;
        if (format is OutputFormat.Json or OutputFormat.Jsonl)
        {
            _json = new Utf8JsonWriter(_jsonBuffer, format == OutputFormat.Json ? s_jsonOptions with { Indented = true } : s_jsonOptions);
        }
    }

    /// <summary>Entries written so far.</summary>
    public long Count { get; private set; }

    public void Write(string key, string value)
    {
        switch (_format)
        {
            case OutputFormat.Tsv:
                WriteText(Escape(key));
                WriteByte((byte)'\t');
                WriteText(Escape(value));
                WriteByte((byte)'\n');
                break;
            case OutputFormat.Csv:
                WriteText(Quote(key));
                WriteByte((byte)',');
                WriteText(Quote(value));
                WriteByte((byte)'\n');
                break;
            case OutputFormat.Keys:
                WriteText(Escape(key));
                WriteByte((byte)'\n');
                break;
            case OutputFormat.Value:
                WriteText(value);
                WriteByte((byte)'\n');
                break;
            case OutputFormat.Jsonl:
                _json!.WriteStartObject();
                _json.WriteString("key"u8, key);
                _json.WriteString("value"u8, value);
                _json.WriteEndObject();
                _json.Flush();
                _jsonBuffer.Write("\n"u8);
                FlushJson();
                _json.Reset();
                break;
            case OutputFormat.Json:
                if (!_started)
                {
                    _json!.WriteStartObject();
                    _started = true;
                }

                _json!.WriteString(key, value);
                if (_json.BytesPending > 1 << 15)
                {
                    _json.Flush();
                    FlushJson();
                }

                break;
        }

        Count++;
    }

    /// <summary>Closes what the format opened (the JSON object) and flushes. Call once, after the last entry.</summary>
    public void Complete()
    {
        if (_format == OutputFormat.Json)
        {
            if (!_started)
            {
                _json!.WriteStartObject();
            }

            _json!.WriteEndObject();
            _json.Flush();
            _jsonBuffer.Write("\n"u8);
            FlushJson();
        }

        _stream.Flush();
    }

    public void Dispose()
    {
        _json?.Dispose();
    }

    /// <summary>TSV escaping: tab, newline, CR and backslash become \t \n \r \\.</summary>
    public static string Escape(string text)
    {
        if (text.AsSpan().IndexOfAny(s_tsvSpecial) < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\t': builder.Append(@"\t"); break;
                case '\n': builder.Append(@"\n"); break;
                case '\r': builder.Append(@"\r"); break;
                case '\\': builder.Append(@"\\"); break;
                default: builder.Append(c); break;
            }
        }

        return builder.ToString();
    }

    /// <summary>CSV quoting (RFC 4180): a field with a comma, quote, CR or LF is quoted, its quotes doubled.</summary>
    public static string Quote(string text) =>
        text.AsSpan().IndexOfAny(s_csvSpecial) < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private void FlushJson()
    {
        _stream.Write(_jsonBuffer.WrittenSpan);
        _jsonBuffer.ResetWrittenCount();
    }

    private void WriteText(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_buffer.Length < max)
        {
            _buffer = new byte[Math.Max(max, _buffer.Length * 2)];
        }

        int length = Encoding.UTF8.GetBytes(text, _buffer);
        _stream.Write(_buffer, 0, length);
    }

    private void WriteByte(byte value) => _stream.WriteByte(value);
}
