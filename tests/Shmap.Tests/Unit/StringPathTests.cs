using System.Text;
using CsCheck;
using Shmap.Format;

namespace Shmap.Tests.Unit;

/// <summary>
/// The string path's decoder (<see cref="ValueDecoder"/>) answers exactly as the runtime's UTF-8
/// decoder does, for every length around its fast path and for bytes that are not UTF-8; span
/// keys and copies into a caller's buffer answer as string keys do, on both façades.
/// </summary>
public class StringPathTests
{
    /// <summary>Bytes of every UTF-8 class, and bytes that are no UTF-8 at all (lone continuations, overlongs, surrogates, 0xFF).</summary>
    private static readonly Gen<byte[]> s_bytes = Gen.Frequency(
        (3, Gen.OneOf(Gen.Const("a"), Gen.Const("é"), Gen.Const("红"), Gen.Const("😀"), Gen.Const("\"name\":"), Gen.Const("\u007F"), Gen.Const("\u0080"), Gen.Const("\uFFFF"))
            .Array[0, 70].Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts)))),
        (2, Gen.OneOfConst<byte>(0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xA9, 0xE7, 0xBA, 0xA2, 0xED, 0xA0, 0xF0, 0x9F, 0x98, 0xF4, 0x90, 0xFF).Array[0, 140]),
        (1, Gen.Byte.Array[0, 200]));

    [Fact]
    public void Decode_AnyBytes_SameAsEncodingUtf8()
    {
        s_bytes.Sample(bytes =>
        {
            string expected = Encoding.UTF8.GetString(bytes);
            Assert.Equal(expected, ValueDecoder.Decode(bytes));
            Assert.Equal(expected, Utf8Text.Decode(bytes));
            char[] destination = new char[expected.Length + 2];
            Assert.Equal(expected.Length, Utf8Text.DecodeInto(bytes, destination));
            Assert.Equal(expected, new string(destination, 0, expected.Length));
            if (expected.Length > 0)
            {
                Assert.Equal(-1, Utf8Text.DecodeInto(bytes, destination.AsSpan(0, expected.Length - 1)));
            }
        }, iter: 20_000);
    }

    public static TheoryData<int> Lengths() => [.. Enumerable.Range(0, 140)];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Decode_EachLengthAndNonAsciiPosition_SameAsEncodingUtf8(int length)
    {
        byte[] ascii = [.. Enumerable.Range(0, length).Select(i => (byte)('!' + (i % 90)))];
        Assert.Equal(Encoding.ASCII.GetString(ascii), ValueDecoder.Decode(ascii));
        foreach (string inserted in new[] { "é", "红", "😀" })
        {
            for (int at = 0; at <= length; at += Math.Max(1, length / 7))
            {
                byte[] bytes = [.. ascii[..at], .. Encoding.UTF8.GetBytes(inserted), .. ascii[at..]];
                Assert.Equal(Encoding.UTF8.GetString(bytes), ValueDecoder.Decode(bytes));

                // Cut short inside the sequence: not UTF-8, replaced as the runtime replaces it.
                byte[] cut = bytes[..(at + 1)];
                Assert.Equal(Encoding.UTF8.GetString(cut), ValueDecoder.Decode(cut));
            }
        }
    }

    [Fact]
    public void SpanKeysAndCopies_BothFacades_AnswerAsStringKeys()
    {
        using var dir = new TestDirectory();
        var model = new Dictionary<string, string>(StringComparer.Ordinal);
        var random = new Random(7);
        string[] pieces = ["a", "Zoë", "São Paulo", "上海", "😀", "{\"name\":\"Ada\"}", "x"];
        for (int i = 0; i < 400; i++)
        {
            var value = new StringBuilder();
            int parts = random.Next(0, 40);
            for (int p = 0; p < parts; p++)
            {
                value.Append(pieces[random.Next(pieces.Length)]);
            }

            model[i % 3 == 0 ? $"user:{i:D8}" : $"ключ-{i}-红"] = value.ToString();
        }

        TestMaps.Build(model).Share("span-keys", force: false, dir.Options);
        using SharedMap map = SharedMap.Open("span-keys", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("span-keys", dir.Options);
        foreach ((string key, string value) in model)
        {
            MapAssert.SpanKeyMatches(value, map, key);
            ReadOnlySpan<char> cut = ("[" + key + "]").AsSpan(1, key.Length);
            Assert.Equal(value, live.Get(cut));
            Assert.Equal(value, live[cut]);
            Assert.True(live.TryGetValue(cut, out string? found));
            Assert.Equal(value, found);
            Assert.True(live.ContainsKey(cut));
            char[] buffer = new char[value.Length];
            Assert.True(live.TryCopyValue(cut, buffer, out int written));
            Assert.Equal(value, new string(buffer, 0, written));
        }

        foreach (string absent in new[] { "", "user:99999999", "ключ", "\uD800" })
        {
            MapAssert.SpanKeyMatches(null, map, absent);
            Assert.Null(live.Get(absent.AsSpan()));
            Assert.False(live.TryCopyValue(absent.AsSpan(), new char[4], out int none));
            Assert.Equal(0, none);
            Assert.False(live.ContainsKey(absent.AsSpan()));
        }
    }

    [Fact]
    public void TryCopyValue_ShortDestination_ThrowsNamingTheLengthNeeded()
    {
        using SharedMap map = SharedMap.Load(TestMaps.Build(new Dictionary<string, string> { ["k"] = "São Paulo" }).Dump());
        ArgumentException e = Assert.Throws<ArgumentException>(() => map.TryCopyValue("k", new char[3], out _));
        Assert.Equal("destination", e.ParamName);
        Assert.Contains("has 3 chars; the value needs 9", e.Message, StringComparison.Ordinal);
    }
}
