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
}
