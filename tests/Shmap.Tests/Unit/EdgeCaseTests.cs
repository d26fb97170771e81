using System.Text;
using Shmap.Format;

namespace Shmap.Tests.Unit;

public class EdgeCaseTests
{
    [Fact]
    public void Load_EmptyBuilder_EveryApiSeesNothing()
    {
        var builder = new SharedMapBuilder();
        Assert.Empty(builder);
        Assert.Null(builder.Get(string.Empty));
        using SharedMap map = SharedMap.Load(builder.Dump());

        int count = map.Count;
        Assert.Equal(0, count);
        Assert.Empty(map);
        Assert.Empty(map.Keys);
        Assert.Empty(map.Values);
        Assert.Null(map.Get(string.Empty));
        Assert.Null(map.Get("a"));
        Assert.False(map.TryGetValue("a", out _));
        Assert.False(map.TryGetValue(ReadOnlySpan<byte>.Empty, out _));
        Assert.False(map.ContainsKey(string.Empty));
        Assert.Equal(-1, map.IndexOf(string.Empty));
        Assert.Empty(map.Range(null, null));
        Assert.Empty(map.Range("a", "z"));
        Assert.Empty(map.StartsWith(string.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetAt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetAt(-1));
        Assert.Throws<KeyNotFoundException>(() => map["a"]);
        Assert.Equal(0, map.Version);
        Assert.Null(map.PublishedAt);
        Assert.Equal(SnapshotLayout.HeaderSize, map.ByteLength);
        map.Verify();
        MapAssert.Matches(Utf8Order.NewModel(), map, ["", "a", "红"]);
    }

    [Fact]
    public void ShareThenOpen_EmptyMap_OpensEmpty()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder().Share("empty", options: dir.Options);
        using SharedMap map = SharedMap.Open("empty", dir.Options);
        Assert.Empty(map);
        Assert.Null(map.Get("x"));
        Assert.Equal(1, map.Version);
        Assert.NotNull(map.PublishedAt);
        map.Verify();
    }

    [Fact]
    public void Load_OneEntry_EveryApiSeesIt()
    {
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        model["only"] = "value";
        using SharedMap map = SharedMap.Load(TestMaps.Build(model).Dump());
        MapAssert.Matches(model, map, ["", "o", "onl", "only ", "onlx", "红"], [("o", "p"), ("p", "o"), ("only", "only")], ["o", "on", "only", "only!", "x"]);
        Assert.Equal(new KeyValuePair<string, string>("only", "value"), map.GetAt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetAt(1));
    }

    [Fact]
    public void Load_EmptyKeyAndEmptyValue_RoundTrip()
    {
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        model[string.Empty] = string.Empty;
        model["a"] = string.Empty;
        model["b"] = "x";
        using SharedMap map = SharedMap.Load(TestMaps.Build(model).Dump());
        Assert.Equal(string.Empty, map.Get(string.Empty));
        Assert.Equal(0, map.IndexOf(string.Empty));
        Assert.True(map.TryGetValue(ReadOnlySpan<byte>.Empty, out ReadOnlySpan<byte> value));
        Assert.True(value.IsEmpty);
        Assert.Equal(string.Empty, map.Get("a"));
        Assert.Empty(map.Range(null, string.Empty));
        Assert.Equal(3, map.Range(string.Empty, null).Count());
        MapAssert.Matches(model, map, ["\0", " ", "aa"]);
    }

    [Fact]
    public void Load_OnlyEmptyKey_RoundTrip()
    {
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        model[string.Empty] = "empty key";
        using SharedMap map = SharedMap.Load(TestMaps.Build(model).Dump());
        MapAssert.Matches(model, map, ["\0", "a"]);
    }

    [Fact]
    public void GetManyUtf8_EmptyValues_LocatesEmptySpans()
    {
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        model[string.Empty] = string.Empty;
        model["a"] = string.Empty;
        model["b"] = "x";
        model["z"] = string.Empty; // the last record: its empty value ends at the end of the file
        using SharedMap map = SharedMap.Load(TestMaps.Build(model).Dump());
        ReadOnlyMemory<byte>[] keys = [Array.Empty<byte>(), "a"u8.ToArray(), "b"u8.ToArray(), "z"u8.ToArray(), "nope"u8.ToArray()];
        var refs = new ValueRef[keys.Length];
        map.GetMany(keys, refs);
        Assert.Equal([true, true, true, true, false], refs.Select(r => r.Found));
        Assert.True(map.GetValue(refs[0]).IsEmpty);
        Assert.True(map.GetValue(refs[1]).IsEmpty);
        Assert.Equal("x"u8.ToArray(), map.GetValue(refs[2]).ToArray());
        Assert.True(map.GetValue(refs[3]).IsEmpty);
        Assert.Throws<ArgumentException>(() => map.GetValue(refs[4]));
        MapAssert.BatchMatches(model, map, ["", "a", "b", "z", "nope", "a"]);
    }

    [Theory]
    [InlineData(127)] // 1-byte LEB128 length, largest
    [InlineData(128)] // 2-byte, smallest
    [InlineData(16_383)] // 2-byte, largest
    [InlineData(16_384)] // 3-byte, smallest
    [InlineData(100_000)] // 3-byte
    [InlineData(2_097_152)] // 4-byte, smallest
    public void Load_LongKeysAndValues_EveryLengthClassRoundTrips(int length)
    {
        string longKey = new('k', length);
        string longValue = new('v', length);
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        model[longKey] = "short";
        model["short"] = longValue;
        model[longKey[..^1] + "j"] = longValue; // same long prefix, differs in the last byte
        model[string.Empty] = longValue;
        using SharedMap map = SharedMap.Load(TestMaps.Build(model).Dump());
        MapAssert.LookupMatches(model, map, longKey + "k");
        MapAssert.LookupMatches(model, map, longKey[..^1]);
        Assert.Equal(model.ToList(), map.ToList());
        for (int i = 0; i < model.Count; i++)
        {
            Assert.Equal(model.ElementAt(i), map.GetAt(i));
        }

        foreach ((string key, string value) in model)
        {
            Assert.Equal(value, map.Get(key));
            Assert.True(map.TryGetValue(Encoding.UTF8.GetBytes(key), out ReadOnlySpan<byte> utf8));
            Assert.Equal(Encoding.UTF8.GetByteCount(value), utf8.Length);
        }

        Assert.Equal(2, map.StartsWith(longKey[..^1]).Count());
        map.Verify();
    }

    [Theory]
    [InlineData(255, 'a')]
    [InlineData(256, 'a')]
    [InlineData(257, 'a')]
    [InlineData(256, '红')] // 768 UTF-8 bytes: exactly the stack buffer
    [InlineData(257, '红')] // 771 bytes: rented buffer
    [InlineData(1000, 'é')]
    public void Get_KeysBeyondStackBuffer_FoundAndMissed(int chars, char ch)
    {
        string key = new(ch, chars);
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        model[key] = "long";
        model[key + "😀"] = "long + emoji";
        model[string.Concat(Enumerable.Repeat("😀", chars))] = "emoji";
        model["x"] = "short";
        using SharedMap map = SharedMap.Load(TestMaps.Build(model).Dump());
        MapAssert.Matches(model, map, [key[..^1], key + "b", new string(ch, chars * 2), string.Concat(Enumerable.Repeat("😀", chars + 1))]);

        // Repeated rented lookups return buffers to the pool without corrupting later lookups.
        int rank = model.Keys.ToList().IndexOf(key);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal("long", map.Get(key));
            Assert.Null(map.Get(key + "?"));
            Assert.Equal(rank, map.IndexOf(key));
        }
    }

    [Fact]
    public void Load_NonAsciiKeys_OrderedByUtf8Bytes()
    {
        // UTF-16 ordinal order puts U+FFFD after 😀 (surrogates 0xD83D < 0xFFFD); UTF-8 order is code point order.
        string[] keys = ["a", "é", "红", "\uE000", "\uFFFD", "\uFFFF", "😀", "\U0010FFFF"];
        var builder = new SharedMapBuilder();
        foreach (string key in keys.Reverse())
        {
            builder.Set(key, key + key);
        }

        using SharedMap map = SharedMap.Load(builder.Dump());
        Assert.Equal(keys, map.Keys);
        Assert.Equal(keys, builder.Select(e => e.Key));
        Assert.Equal(["\uFFFD", "\uFFFF"], map.Range("\uF000", "😀").Select(e => e.Key));
        Assert.Equal(["😀", "\U0010FFFF"], map.Range("\U00010000", null).Select(e => e.Key));
        Assert.Equal(5, map.IndexOf("\uFFFF"));
        Assert.Equal(6, map.IndexOf("😀"));
        Assert.Equal("😀😀", map.Get("😀"));
    }

    // Lone surrogates do not survive test-case serialization (they arrive as U+FFFD): pass an index.
    private static readonly string[] s_loneSurrogates = ["\uD800", "\uDC00", "a\uD83Db", "\uDE00\uD83D", "ok\uD83D", "\uDBFF"];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Set_LoneSurrogate_ThrowsAndLookupsMiss(int which)
    {
        string bad = s_loneSurrogates[which];
        Assert.Throws<EncoderFallbackException>(() => new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(bad)); // the input really is invalid
        var builder = new SharedMapBuilder();
        ArgumentException onKey = Assert.ThrowsAny<ArgumentException>(() => builder.Set(bad, "v"));
        Assert.Equal("key", onKey.ParamName);
        ArgumentException onValue = Assert.ThrowsAny<ArgumentException>(() => builder.Set("k", bad));
        Assert.Equal("value", onValue.ParamName);
        Assert.Throws<ArgumentException>(() => builder[bad] = "v");
        Assert.Equal(0, builder.Count);

        builder.Set("k", "v");
        builder.Set("ok", "v");
        Assert.Null(builder.Get(bad));
        Assert.False(builder.ContainsKey(bad));
        Assert.False(builder.TryGetValue(bad, out _));
        Assert.False(builder.Remove(bad));

        using SharedMap map = SharedMap.Load(builder.Dump());
        Assert.Null(map.Get(bad));
        Assert.False(map.TryGetValue(bad, out string? value));
        Assert.Null(value);
        Assert.False(map.ContainsKey(bad));
        Assert.Equal(-1, map.IndexOf(bad));
        Assert.Throws<KeyNotFoundException>(() => map[bad]);

        // Long keys go through the rented buffer: the same rule.
        string longBad = new string('x', 400) + bad;
        Assert.Null(map.Get(longBad));
        Assert.Equal(-1, map.IndexOf(longBad));
    }

    public static TheoryData<byte[]> InvalidUtf8 => new()
    {
        new byte[] { 0xFF },
        new byte[] { 0x80 },
        new byte[] { (byte)'a', 0xC3 }, // truncated 2-byte sequence
        new byte[] { 0xE7, 0xBA }, // truncated 3-byte sequence
        new byte[] { 0xC0, 0x80 }, // overlong NUL
        new byte[] { 0xE0, 0x80, 0x80 }, // overlong
        new byte[] { 0xED, 0xA0, 0x80 }, // encoded surrogate U+D800
        new byte[] { 0xF4, 0x90, 0x80, 0x80 }, // above U+10FFFF
        new byte[] { 0xF8, 0x88, 0x80, 0x80, 0x80 },
        Encoding.UTF8.GetBytes(new string('a', 600)).Concat(new byte[] { 0xFE }).ToArray(), // past the 256-char scratch
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void SetSpans_InvalidUtf8_ThrowsArgumentException(byte[] bad)
    {
        var builder = new SharedMapBuilder();
        ArgumentException onKey = Assert.ThrowsAny<ArgumentException>(() => builder.Set(bad, "v"u8));
        Assert.Equal("key", onKey.ParamName);
        ArgumentException onValue = Assert.ThrowsAny<ArgumentException>(() => builder.Set("k"u8, bad));
        Assert.Equal("value", onValue.ParamName);
        Assert.Equal(0, builder.Count);

        // A UTF-8 lookup of invalid bytes is simply a miss.
        builder.Set("k"u8, "v"u8);
        using SharedMap map = SharedMap.Load(builder.Dump());
        Assert.False(map.TryGetValue(bad, out _));
        Assert.False(map.ContainsKey(bad.AsSpan()));
    }

    [Fact]
    public void Set_DuplicateKeys_LastWins()
    {
        var builder = new SharedMapBuilder();
        builder.Set("k", "1");
        builder.Set("k", new string('x', 1000));
        builder["k"] = "3";
        builder.Set("k"u8, "4"u8);
        builder.Set("other", "o");
        Assert.True(builder.Remove("other"));
        Assert.False(builder.Remove("other"));
        Assert.Equal("4", builder["k"]);
        Assert.Single(builder);
        using SharedMap map = SharedMap.Load(builder.Dump());
        Assert.Equal("4", map["k"]);
        Assert.Single(map);
        map.Verify();

        builder.Clear();
        Assert.Equal(0, builder.Count);
        Assert.Equal(new SharedMapBuilder().Dump(), builder.Dump());
    }

    [Fact]
    public void Builder_MissingKey_IndexerThrowsKeyNotFound()
    {
        var builder = new SharedMapBuilder();
        Assert.Throws<KeyNotFoundException>(() => builder["missing"]);
        Assert.Throws<ArgumentNullException>(() => builder.Get(null!));
        Assert.Throws<ArgumentNullException>(() => builder.Set(null!, "v"));
        Assert.Throws<ArgumentNullException>(() => builder.Set("k", null!));
    }

    [Fact]
    public void Range_FromAboveTo_IsEmpty()
    {
        using SharedMap map = SharedMap.Load(TestMaps.Build(TestMaps.Seed()).Dump());
        Assert.Empty(map.Range("zb", "aaa"));
        Assert.Empty(map.Range("tes", "tes"));
        Assert.Equal(["tes"], map.Range("tes", "tes\0").Select(e => e.Key));
    }

    [Fact]
    public void Scans_LoneSurrogateBound_ThrowArgumentException()
    {
        // Unlike lookups (a key that cannot be stored is simply absent), a scan bound must be
        // comparable to stored keys: the caller's mistake is reported.
        using SharedMap map = SharedMap.Load(TestMaps.Build(TestMaps.Seed()).Dump());
        Assert.Throws<ArgumentException>(() => map.Range("\uD800", null));
        Assert.Throws<ArgumentException>(() => map.Range(null, "a\uDC00"));
        Assert.Throws<ArgumentException>(() => map.StartsWith("\uD83D"));
    }

    [Fact]
    public void GetAt_OutOfRange_Throws()
    {
        using SharedMap map = SharedMap.Load(TestMaps.Build(TestMaps.Seed()).Dump());
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetAt(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetAt(map.Count));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetAt(int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetAt(int.MinValue));
    }

    [Fact]
    public void Lookups_NullArguments_ThrowArgumentNull()
    {
        using SharedMap map = SharedMap.Load(TestMaps.Build(TestMaps.Seed()).Dump());
        Assert.Throws<ArgumentNullException>(() => map.Get(null!));
        Assert.Throws<ArgumentNullException>(() => map.TryGetValue((string)null!, out string? _));
        Assert.Throws<ArgumentNullException>(() => map.IndexOf(null!));
        Assert.Throws<ArgumentNullException>(() => map.StartsWith(null!));
        Assert.Throws<ArgumentNullException>(() => SharedMap.Load((byte[])null!));
        Assert.ThrowsAny<ArgumentException>(() => SharedMap.OpenFile(string.Empty));
    }

    [Fact]
    public void Dispose_ThenAnyApi_ThrowsObjectDisposed()
    {
        SharedMap map = SharedMap.Load(TestMaps.Build(TestMaps.Seed()).Dump());
        IEnumerator<KeyValuePair<string, string>> live = map.GetEnumerator();
        Assert.True(live.MoveNext());
        map.Dispose();
        map.Dispose(); // twice is fine

        Assert.Throws<ObjectDisposedException>(() => map.Get("aaa"));
        Assert.Throws<ObjectDisposedException>(() => map["aaa"]);
        Assert.Throws<ObjectDisposedException>(() => map.TryGetValue("aaa", out _));
        Assert.Throws<ObjectDisposedException>(() => map.TryGetValue("aaa"u8, out _));
        Assert.Throws<ObjectDisposedException>(() => map.ContainsKey("aaa"));
        Assert.Throws<ObjectDisposedException>(() => map.ContainsKey("aaa"u8));
        Assert.Throws<ObjectDisposedException>(() => map.IndexOf("aaa"));
        Assert.Throws<ObjectDisposedException>(() => map.GetAt(0));
        Assert.Throws<ObjectDisposedException>(() => map.Range(null, null));
        Assert.Throws<ObjectDisposedException>(() => map.StartsWith("a"));
        Assert.Throws<ObjectDisposedException>(() => map.ToList());
        Assert.Throws<ObjectDisposedException>(() => map.Keys.ToList());
        Assert.Throws<ObjectDisposedException>(() => live.MoveNext());
        Assert.Throws<ObjectDisposedException>(() => map.Verify());
        Assert.Throws<ObjectDisposedException>(() => map.Version);
        Assert.Throws<ObjectDisposedException>(() => map.ByteLength);
    }

    [Fact]
    public void Dispose_MappedFile_ThenAnyApi_ThrowsObjectDisposed()
    {
        using var dir = new TestDirectory();
        TestMaps.Build(TestMaps.Seed()).Share("disposed", options: dir.Options);
        SharedMap map = SharedMap.Open("disposed", dir.Options);
        Assert.Equal("323", map.Get("aaa"));
        map.Dispose();
        Assert.Throws<ObjectDisposedException>(() => map.Get("aaa"));
        Assert.Throws<ObjectDisposedException>(() => map.ToList());
    }

    [Fact]
    public void OpenFile_WriteToOutput_ReadsBack()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        string path = Path.Combine(dir.Path, "written.shmap");
        SharedMapBuilder builder = TestMaps.Build(TestMaps.Seed());
        using (FileStream file = File.Create(path))
        {
            builder.WriteTo(file);
        }

        using SharedMap map = SharedMap.OpenFile(path);
        Assert.Equal(path, map.Path);
        Assert.Null(map.Name);
        Assert.Equal(0, map.Version);
        MapAssert.Matches(TestMaps.Seed(), map);
        Assert.Throws<FileNotFoundException>(() => SharedMap.OpenFile(Path.Combine(dir.Path, "missing.shmap")));
    }
}
