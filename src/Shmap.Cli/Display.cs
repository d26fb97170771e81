using System.Buffers;

namespace Shmap.Cli;

/// <summary>Renders keys and sizes for messages: short, one line, control characters visible.</summary>
internal static class Display
{
    private const int MaxChars = 60;

    /// <summary>A key or value for an error message: quoted, control characters escaped, long ones cut.</summary>
    public static string Text(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxChars) + 2);
        builder.Append('\'');
        foreach (char c in text.Length > MaxChars ? text[..MaxChars] : text)
        {
            switch (c)
            {
                case '\t': builder.Append(@"\t"); break;
                case '\n': builder.Append(@"\n"); break;
                case '\r': builder.Append(@"\r"); break;
                case '\\': builder.Append(@"\\"); break;
                default:
                    if (char.IsControl(c))
                    {
                        builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append(text.Length > MaxChars ? "'…" : "'");
        return builder.ToString();
    }

    /// <summary>UTF-8 bytes for a message (invalid sequences shown as U+FFFD).</summary>
    public static string Text(ReadOnlySpan<byte> utf8) => Text(Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, MaxChars * 4)]));

    /// <summary>The first character of UTF-8 bytes, for "unknown escape" messages.</summary>
    public static string Char(ReadOnlySpan<byte> utf8)
    {
        OperationStatus status = Rune.DecodeFromUtf8(utf8, out Rune rune, out _);
        return status == OperationStatus.Done ? rune.ToString() : $"\\x{utf8[0]:x2}";
    }

    /// <summary>
    /// A name found on disk, safe to print: control and invisible format characters (Unicode Cc
    /// and Cf, e.g. the bidi override U+202E that makes "abc\u202Etxt.exe" display as "abcexe.txt")
    /// are shown as &lt;U+XXXX&gt;, so a name never displays as another one.
    /// </summary>
    public static string Name(string name)
    {
        var text = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            if (char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
            {
                text.Append(CultureInfo.InvariantCulture, $"<U+{(int)c:X4}>");
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    /// <summary>A byte count in IEC units: "532 B", "1.5 KiB", "88.1 MiB".</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    /// <summary>A duration for people: "850 µs", "12.3 ms", "2.41 s".</summary>
    public static string Duration(TimeSpan time) => time.TotalMilliseconds switch
    {
        < 1 => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMicroseconds:0} µs"),
        < 100 => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0.0} ms"),
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0.00} s"),
    };

    /// <summary>"1 entry", "1,000 entries".</summary>
    public static string Entries(long count) => count == 1 ? "1 entry" : Count(count) + " entries";

    /// <summary>A count with thousands separators: 1,000,000.</summary>
    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A timestamp in UTC, ISO 8601 to the millisecond.</summary>
    public static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) ?? "-";
}
