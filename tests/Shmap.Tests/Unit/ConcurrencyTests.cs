using System.Collections.Concurrent;
using System.Globalization;

namespace Shmap.Tests.Unit;

public class ConcurrencyTests
{
    [Fact]
    public void Get_ManyThreadsOneMap_EveryReadCorrect()
    {
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        for (int i = 0; i < 2000; i++)
        {
            model["t" + i.ToString(CultureInfo.InvariantCulture) + (i % 5 == 0 ? "红" : string.Empty)] = new string('x', i % 300);
        }

        using SharedMap map = SharedMap.Load(TestMaps.Build(model).Dump());
        List<KeyValuePair<string, string>> expected = [.. model];
        var errors = new ConcurrentQueue<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            for (int i = worker; i < expected.Count; i += 3)
            {
                (string key, string value) = expected[i];
                if (map.Get(key) != value || map.IndexOf(key) != i || !map.GetAt(i).Equals(expected[i]) || map.Get(key + "?") is not null)
                {
                    errors.Enqueue(key);
                }
            }

            if (!map.Range(expected[100].Key, expected[200].Key).SequenceEqual(expected.Skip(100).Take(100)))
            {
                errors.Enqueue("range");
            }
        });
        Assert.Empty(errors);
    }

    [Fact]
    public void Publish_ConcurrentPublishers_DistinctConsecutiveVersions()
    {
        using var dir = new TestDirectory();
        var versions = new ConcurrentBag<long>();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            for (int i = 0; i < 10; i++)
            {
                var builder = new SharedMapBuilder { ["worker"] = worker.ToString(CultureInfo.InvariantCulture), ["i"] = i.ToString(CultureInfo.InvariantCulture) };
                versions.Add(builder.Publish("contended", dir.Options));
            }
        });

        Assert.Equal(Enumerable.Range(1, 40).Select(v => (long)v), versions.Order());
        using SharedMap map = SharedMap.Open("contended", dir.Options);
        Assert.Equal(40, map.Version);
        map.Verify();
        Assert.Equal(["contended.lock", "contended.shmap", "contended.wlock"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Share_ConcurrentCreateNew_ExactlyOneWins()
    {
        using var dir = new TestDirectory();
        int won = 0;
        int lost = 0;
        Parallel.For(0, 6, new ParallelOptions { MaxDegreeOfParallelism = 6 }, worker =>
        {
            try
            {
                new SharedMapBuilder { ["winner"] = worker.ToString(CultureInfo.InvariantCulture) }.Share("race", options: dir.Options);
                Interlocked.Increment(ref won);
            }
            catch (SharedMapExistsException)
            {
                Interlocked.Increment(ref lost);
            }
        });

        Assert.Equal(1, won);
        Assert.Equal(5, lost);
        using SharedMap map = SharedMap.Open("race", dir.Options);
        Assert.Equal(1, map.Version);
    }
}
