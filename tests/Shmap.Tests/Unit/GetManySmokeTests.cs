using System.Text;

namespace Shmap.Tests.Unit;

public class GetManySmokeTests
{
    [Fact]
    public void GetMany_MixedBatch_EqualsLoopOfGet()
    {
        var builder = new SharedMapBuilder();
        for (int i = 0; i < 1000; i++)
        {
            builder.Set("key" + i, "value" + i);
        }

        builder.Set(string.Empty, "empty");
        builder.Set("红", "32是");
        using SharedMap map = SharedMap.Load(builder.Dump());
        string[] keys = Enumerable.Range(0, 100).Select(i => i % 3 == 0 ? "missing" + i : "key" + (i * 7)).Concat(["", "红", "key7", "key7", "\ud800"]).ToArray();
        var values = new string?[keys.Length];
        map.GetMany(keys, values);
        Assert.Equal(keys.Select(map.Get).ToArray(), values);

        ReadOnlyMemory<byte>[] utf8 = keys.Take(keys.Length - 1).Select(k => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(k)).ToArray();
        var refs = new ValueRef[utf8.Length];
        map.GetMany(utf8, refs);
        for (int i = 0; i < utf8.Length; i++)
        {
            bool found = map.TryGetValue(utf8[i].Span, out ReadOnlySpan<byte> expected);
            Assert.Equal(found, refs[i].Found);
            if (found)
            {
                Assert.True(expected.SequenceEqual(map.GetValue(refs[i])));
            }
        }
    }

    /// <summary>
    /// Batches of every length from 0 to a few segments (the reader works in segments of 256 keys and
    /// prefetches 16 keys ahead): sizes around both, hits, misses and duplicates, equal to single lookups.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(1000)]
    public void GetMany_BatchAroundSegmentAndPrefetchSizes_EqualsSingleLookups(int size)
    {
        var builder = new SharedMapBuilder();
        for (int i = 0; i < 3000; i++)
        {
            builder.Set("k" + i, "v" + i);
        }

        using SharedMap map = SharedMap.Load(builder.Dump());
        var random = new Random(size);
        string[] keys = [.. Enumerable.Range(0, size).Select(_ => random.Next(4) == 0 ? "absent" + random.Next(3000) : "k" + random.Next(3000))];
        var values = new string?[size];
        map.GetMany(keys, values);
        Assert.Equal(keys.Select(map.Get).ToArray(), values);

        ReadOnlyMemory<byte>[] utf8 = [.. keys.Select(k => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(k))];
        var refs = new ValueRef[size];
        map.GetMany(utf8, refs);
        Assert.Equal(values, refs.Select(r => r.Found ? Encoding.UTF8.GetString(map.GetValue(r)) : null).ToArray());
    }
}
