using System.Text;

namespace Shmap.Tests;

/// <summary>Differential checks of a <see cref="SharedMap"/> (and a builder) against a model.</summary>
public static class MapAssert
{
    /// <summary>
    /// Every API of <paramref name="map"/> agrees with <paramref name="model"/>: point lookups (string
    /// and UTF-8), ranks, full enumeration, the given probes (present or not), ranges and prefixes,
    /// plus ranges and prefixes derived from the model's own keys. Ends with <see cref="SharedMap.Verify"/>.
    /// </summary>
    public static void Matches(
        SortedDictionary<string, string> model,
        SharedMap map,
        IEnumerable<string>? probes = null,
        IEnumerable<(string? From, string? To)>? ranges = null,
        IEnumerable<string>? prefixes = null)
    {
        List<KeyValuePair<string, string>> expected = [.. model];
        Assert.Equal(expected.Count, map.Count);
        Assert.Equal(expected, map.ToList());
        Assert.Equal(expected.Select(e => e.Key), map.Keys);
        Assert.Equal(expected.Select(e => e.Value), map.Values);

        for (int i = 0; i < expected.Count; i++)
        {
            (string key, string value) = expected[i];
            Assert.Equal(expected[i], map.GetAt(i));
            Assert.Equal(i, map.IndexOf(key));
            Assert.Equal(value, map.Get(key));
            Assert.Equal(value, map[key]);
            Assert.True(map.TryGetValue(key, out string? found));
            Assert.Equal(value, found);
            Assert.True(map.ContainsKey(key));
            byte[] utf8Key = Encoding.UTF8.GetBytes(key);
            Assert.True(map.TryGetValue(utf8Key, out ReadOnlySpan<byte> utf8Value));
            Assert.Equal(Encoding.UTF8.GetBytes(value), utf8Value.ToArray());
            Assert.True(map.ContainsKey(utf8Key.AsSpan()));
            SpanKeyMatches(value, map, key);
        }

        foreach (string probe in probes ?? [])
        {
            LookupMatches(model, map, probe);
        }

        BatchMatches(model, map, [.. model.Keys, .. probes ?? [], .. model.Keys.Take(3)]);

        var allRanges = new List<(string? From, string? To)>(ranges ?? []) { (null, null) };
        var allPrefixes = new List<string>(prefixes ?? []) { string.Empty };
        foreach (string key in model.Keys.Take(12))
        {
            allRanges.Add((key, null));
            allRanges.Add((null, key));
            allRanges.Add((key, key));
            string? next = model.Keys.FirstOrDefault(k => Utf8Order.Instance.Compare(k, key) > 0);
            allRanges.Add((key, next));
            allRanges.Add((next, key));
            allPrefixes.AddRange(CodePointPrefixes(key));
        }

        foreach ((string? from, string? to) in allRanges)
        {
            var expectedRange = model
                .Where(e => (from is null || Utf8Order.Instance.Compare(e.Key, from) >= 0) && (to is null || Utf8Order.Instance.Compare(e.Key, to) < 0))
                .ToList();
            Assert.Equal(expectedRange, map.Range(from, to).ToList());
        }

        foreach (string prefix in allPrefixes)
        {
            var expectedPrefix = model.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            Assert.Equal(expectedPrefix, map.StartsWith(prefix).ToList());
        }

        map.Verify();
    }

    /// <summary>One key, present or absent, looked up through every API.</summary>
    public static void LookupMatches(SortedDictionary<string, string> model, SharedMap map, string key)
    {
        byte[] utf8Key = Encoding.UTF8.GetBytes(key);
        if (model.TryGetValue(key, out string? value))
        {
            Assert.Equal(value, map.Get(key));
            Assert.True(map.TryGetValue(utf8Key, out ReadOnlySpan<byte> utf8Value));
            Assert.Equal(Encoding.UTF8.GetBytes(value), utf8Value.ToArray());
            Assert.Equal(model.Keys.TakeWhile(k => k != key).Count(), map.IndexOf(key));
            Assert.True(map.ContainsKey(key));
            return;
        }

        Assert.Null(map.Get(key));
        Assert.False(map.TryGetValue(key, out string? missing));
        Assert.Null(missing);
        Assert.False(map.TryGetValue(utf8Key, out ReadOnlySpan<byte> none));
        Assert.True(none.IsEmpty);
        Assert.False(map.ContainsKey(key));
        Assert.False(map.ContainsKey(utf8Key.AsSpan()));
        Assert.Equal(-1, map.IndexOf(key));
        Assert.Throws<KeyNotFoundException>(() => map[key]);
        SpanKeyMatches(null, map, key);
    }

    /// <summary>
    /// The span-key lookups and the copy into a caller's buffer answer as the string lookups do,
    /// for a key cut out of a larger buffer (<paramref name="value"/> null: absent).
    /// </summary>
    public static void SpanKeyMatches(string? value, SharedMap map, string key)
    {
        ReadOnlySpan<char> cut = ("<" + key + ">").AsSpan(1, key.Length);
        Assert.Equal(value, map.Get(cut));
        Assert.Equal(value is not null, map.TryGetValue(cut, out string? found));
        Assert.Equal(value, found);
        Assert.Equal(value is not null, map.ContainsKey(cut));
        char[] buffer = new char[(value?.Length ?? 0) + 3];
        Assert.Equal(value is not null, map.TryCopyValue(cut, buffer, out int written));
        Assert.Equal(value ?? "", new string(buffer, 0, written));
        if (value is null)
        {
            string text = key;
            Assert.Throws<KeyNotFoundException>(() => map[text.AsSpan()]);
            return;
        }

        Assert.Equal(value, map[cut]);
        Assert.True(map.TryCopyValue(cut, buffer.AsSpan(0, value.Length), out written));
        Assert.Equal(value.Length, written);
        if (value.Length > 0)
        {
            string text = key;
            ArgumentException e = Assert.Throws<ArgumentException>(() => map.TryCopyValue(text.AsSpan(), new char[value.Length - 1], out _));
            Assert.Contains($"needs {value.Length}", e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Both <see cref="SharedMap.GetMany(ReadOnlySpan{string}, Span{string})"/> forms answer every key of a batch as the model does.</summary>
    public static void BatchMatches(SortedDictionary<string, string> model, SharedMap map, string[] batch)
    {
        var values = new string?[batch.Length];
        map.GetMany(batch, values);
        for (int i = 0; i < batch.Length; i++)
        {
            Assert.Equal(model.GetValueOrDefault(batch[i]), values[i]);
        }

        ReadOnlyMemory<byte>[] utf8 = [.. batch.Select(k => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(k))];
        var refs = new ValueRef[batch.Length];
        map.GetMany(utf8, refs);
        for (int i = 0; i < batch.Length; i++)
        {
            bool present = model.TryGetValue(batch[i], out string? value);
            Assert.Equal(present, refs[i].Found);
            if (present)
            {
                byte[] expected = Encoding.UTF8.GetBytes(value!);
                Assert.Equal(expected.Length, refs[i].Length);
                Assert.Equal(expected, map.GetValue(refs[i]).ToArray());
            }
        }
    }

    /// <summary>The builder's own view agrees with the model.</summary>
    public static void BuilderMatches(SortedDictionary<string, string> model, SharedMapBuilder builder, IEnumerable<string>? probes = null)
    {
        Assert.Equal(model.Count, builder.Count);
        Assert.Equal([.. model], builder.ToList());
        foreach (string key in model.Keys.Concat(probes ?? []))
        {
            bool present = model.TryGetValue(key, out string? value);
            Assert.Equal(value, builder.Get(key));
            Assert.Equal(present, builder.ContainsKey(key));
            Assert.Equal(present, builder.TryGetValue(key, out string? found));
            Assert.Equal(value, found);
        }
    }

    /// <summary>Every prefix of <paramref name="key"/> that ends on a code point boundary, the key itself included.</summary>
    public static IEnumerable<string> CodePointPrefixes(string key)
    {
        for (int i = 0; i <= key.Length; i++)
        {
            if (i == key.Length || !char.IsLowSurrogate(key[i]))
            {
                yield return key[..i];
            }
        }
    }
}
