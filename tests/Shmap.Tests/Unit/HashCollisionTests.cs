using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Shmap.Format;

namespace Shmap.Tests.Unit;

/// <summary>
/// Real keys whose XXH3-64 hashes collide where the format can collide: in the slot tag (the top
/// 32 bits, when offsets take 32 bits) and in the home slot. Found by search, not by mocking the hash.
/// </summary>
public class HashCollisionTests
{
    private static readonly Lazy<List<(string A, string B)>> s_tagCollisions = new(FindTagCollisions);

    private static ulong Hash(string key) => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(key));

    /// <summary>Home slot of a hash as docs/FORMAT.md defines it: high 64 bits of hash × home slots.</summary>
    private static ulong Home(ulong hash, ulong homeSlots) => Math.BigMul(hash, homeSlots, out _);

    /// <summary>Birthday search: ~300k keys over a 32-bit tag space give several colliding pairs.</summary>
    private static List<(string A, string B)> FindTagCollisions()
    {
        var seen = new Dictionary<uint, string>();
        var pairs = new List<(string, string)>();
        for (int i = 0; i < 300_000 && pairs.Count < 8; i++)
        {
            string key = "collide-" + i.ToString(CultureInfo.InvariantCulture);
            uint tag = (uint)(Hash(key) >> 32);
            if (seen.TryGetValue(tag, out string? other))
            {
                pairs.Add((other, key));
            }
            else
            {
                seen.Add(tag, key);
            }
        }

        return pairs;
    }

    [Fact]
    public void Get_KeysSharingHashTag_EachFoundPartnersMissed()
    {
        List<(string A, string B)> pairs = s_tagCollisions.Value;
        Assert.True(pairs.Count >= 3, $"birthday search found only {pairs.Count} tag collisions");
        foreach ((string a, string b) in pairs)
        {
            Assert.Equal(Hash(a) >> 32, Hash(b) >> 32);
            Assert.NotEqual(Hash(a), Hash(b));
        }

        // Both keys of the first half of the pairs; only the first key of the others, so their
        // partners are misses that match a stored tag and must be told apart by the key bytes.
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        var misses = new List<string>();
        for (int i = 0; i < pairs.Count; i++)
        {
            model[pairs[i].A] = "A" + i.ToString(CultureInfo.InvariantCulture);
            if (i % 2 == 0)
            {
                model[pairs[i].B] = "B" + i.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                misses.Add(pairs[i].B);
            }
        }

        for (int i = 0; i < 40; i++)
        {
            model["filler-" + i.ToString(CultureInfo.InvariantCulture)] = "f";
        }

        byte[] dump = TestMaps.Build(model).Dump();
        using SharedMap map = SharedMap.Load(dump);
        MapAssert.Matches(model, map, misses);
        foreach (string miss in misses)
        {
            Assert.Null(map.Get(miss));
            Assert.Equal(-1, map.IndexOf(miss));
        }
    }

    [Fact]
    public void Get_ManyKeysSharingHomeSlots_FoundAndMissedWithOverflowTail()
    {
        // n entries spread over ceil(n / 0.75) home slots. Crowd home 0 and the last home, so that
        // probing runs long and the last home's run spills into the overflow tail past the home slots.
        const int PerCrowd = 20;
        const int N = 3 * PerCrowd;
        ulong homeSlots = (ulong)Math.Ceiling(N / 0.75);
        var first = new List<string>();
        var last = new List<string>();
        var others = new List<string>();
        var missFirst = new List<string>();
        var missLast = new List<string>();
        for (int i = 0; first.Count + missFirst.Count < 2 * PerCrowd || last.Count + missLast.Count < 2 * PerCrowd || others.Count < PerCrowd; i++)
        {
            string key = "home-" + i.ToString(CultureInfo.InvariantCulture);
            ulong home = Home(Hash(key), homeSlots);
            if (home == 0)
            {
                (first.Count < PerCrowd ? first : missFirst).Add(key);
            }
            else if (home == homeSlots - 1)
            {
                (last.Count < PerCrowd ? last : missLast).Add(key);
            }
            else if (others.Count < PerCrowd)
            {
                others.Add(key);
            }
        }

        SortedDictionary<string, string> model = Utf8Order.NewModel();
        foreach (string key in first.Concat(last).Concat(others))
        {
            model[key] = "v:" + key;
        }

        byte[] dump = TestMaps.Build(model).Dump();
        SnapshotHeader header = SnapshotHeader.Parse(dump, dump.Length);
        Assert.Equal(homeSlots, header.HomeSlots);
        Assert.True(header.SlotCount >= (long)homeSlots + PerCrowd - 1, $"expected an overflow tail, slot count {header.SlotCount}");
        Assert.True(header.MaxProbe >= PerCrowd - 1, $"expected long probes, max_probe {header.MaxProbe}");

        using SharedMap map = SharedMap.Load(dump);
        MapAssert.Matches(model, map, missFirst.Concat(missLast).Take(2 * PerCrowd));
    }

    [Fact]
    public void Share_CollidingKeys_OpenFindsAll()
    {
        using var dir = new TestDirectory();
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        foreach ((string a, string b) in s_tagCollisions.Value)
        {
            model[a] = b;
            model[b] = a;
        }

        TestMaps.Build(model).Share("collisions", options: dir.Options);
        using SharedMap map = SharedMap.Open("collisions", dir.Options);
        MapAssert.Matches(model, map);
    }
}
