using System.Text;
using CsCheck;
using Shmap.Format;

namespace Shmap.Tests.Unit;

/// <summary>The ASCII fast paths of the string API give exactly the general UTF-8 conversions' answers, or decline.</summary>
public class ShortAsciiTests
{
    private const byte Guard = 0xA5;

    public static TheoryData<int> Lengths() => [.. Enumerable.Range(0, 41)];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void TryEncode_AsciiOfEachLength_WritesItsUtf8WithinTheBuffer(int length)
    {
        string text = Ascii(length);
        byte[] buffer = Guarded(64);
        int written = ShortAscii.TryEncode(text, buffer.AsSpan(0, ShortAscii.EncodeBufferBytes));
        if (length > 32)
        {
            Assert.Equal(-1, written);
            return;
        }

        Assert.Equal(length, written);
        Assert.Equal(Encoding.UTF8.GetBytes(text), buffer[..written]);
        Assert.All(buffer[ShortAscii.EncodeBufferBytes..], static b => Assert.Equal(Guard, b));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void TryEncode_NonAsciiCharAtEachPosition_Declines(int length)
    {
        for (int at = 0; at < length; at++)
        {
            foreach (char c in "\u0080é红\uD800\u00FF\uFF80")
            {
                char[] chars = Ascii(length).ToCharArray();
                chars[at] = c;
                Assert.Equal(-1, ShortAscii.TryEncode(new string(chars), Guarded(ShortAscii.EncodeBufferBytes)));
            }
        }
    }

    [Fact]
    public void TryEncode_BufferTooShort_Declines()
    {
        Assert.Equal(-1, ShortAscii.TryEncode("abc", new byte[ShortAscii.EncodeBufferBytes - 1]));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void TryDecode_AsciiOfEachLength_GivesTheString(int length)
    {
        string text = Ascii(length + 30);
        bool decoded = ShortAscii.TryDecode(Encoding.UTF8.GetBytes(text), out string? result);
        Assert.Equal(text.Length >= 16, decoded);
        if (decoded)
        {
            Assert.Equal(text, result);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void TryDecode_NonAsciiByteAtEachPosition_Declines(int length)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(Ascii(length + 16));
        for (int at = 0; at < bytes.Length; at++)
        {
            byte[] changed = (byte[])bytes.Clone();
            changed[at] = 0x80;
            Assert.False(ShortAscii.TryDecode(changed, out _));
        }
    }

    [Fact]
    public void Conversions_RandomStrings_EqualTheGeneralUtf8Conversions()
    {
        // Mostly ASCII, sometimes other characters (and lone surrogates, which the encoder refuses).
        Gen<string> text = Gen.OneOf(Gen.String[Gen.Char['!', '~'], 0, 70], Gen.String[Gen.Char.AlphaNumeric, 0, 40], Gen.String[0, 40]);
        text.Sample(s =>
        {
            byte[] buffer = Guarded(64);
            int written = ShortAscii.TryEncode(s, buffer.AsSpan(0, ShortAscii.EncodeBufferBytes));
            bool ascii = s.All(static c => c < 0x80);
            Assert.Equal(ascii && s.Length <= 32 ? s.Length : -1, written);
            if (written >= 0)
            {
                Assert.Equal(Encoding.UTF8.GetBytes(s), buffer[..written]);
            }

            Utf8Text.TryEncode(s, out byte[]? utf8);
            if (utf8 is not null)
            {
                Assert.Equal(Encoding.UTF8.GetString(utf8), Utf8Text.Decode(utf8));
                Assert.Equal(ascii && utf8.Length >= 16, ShortAscii.TryDecode(utf8, out _));
            }
        });
    }

    private static string Ascii(int length) => new([.. Enumerable.Range(0, length).Select(static i => (char)('!' + (i * 7 % 94)))]);

    private static byte[] Guarded(int length)
    {
        byte[] buffer = new byte[length];
        buffer.AsSpan().Fill(Guard);
        return buffer;
    }
}
