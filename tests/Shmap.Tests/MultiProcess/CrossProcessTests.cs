using System.Globalization;
using System.Text.RegularExpressions;
using Shmap.TestReader;
using Xunit.Abstractions;

namespace Shmap.Tests.MultiProcess;

/// <summary>
/// Child processes (Shmap.TestReader) read maps this process shares: by name, across Delete and
/// forced re-shares, while new versions are published, and from one physical copy of the bytes.
/// </summary>
public partial class CrossProcessTests(ITestOutputHelper output)
{
    private static SortedDictionary<string, string> MakeEntries(int count, string tag)
    {
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        for (int i = 0; i < count; i++)
        {
            string n = i.ToString(CultureInfo.InvariantCulture);
            model[(i % 3) switch { 0 => "key-" + n, 1 => "键-" + n, _ => "😀-" + n }] = $"{tag}:{n}:" + new string('v', i % 40);
        }

        model[string.Empty] = tag + " empty key";
        return model;
    }

    [Fact]
    public void ChildOpen_SharedByName_ReadsEveryKey()
    {
        using var dir = new TestDirectory();
        SortedDictionary<string, string> model = MakeEntries(500, "a");
        TestMaps.Build(model).Share("test:3325", options: dir.Options);

        using var child = ChildReader.Start(dir.Path);
        Assert.Equal(["1", model.Count.ToString(CultureInfo.InvariantCulture)], child.Ok("open test:3325"));
        Assert.Equal(["1", model.Count.ToString(CultureInfo.InvariantCulture), MapChecksum.Of(model)], child.Ok("check"));
        Assert.Equal("notfound", child.Send("open missing"));
        Assert.Equal("notfound", child.Send("fresh missing"));
    }

    [Fact]
    public void Delete_WhileChildHoldsMap_ChildKeepsReadingNewOpensFail()
    {
        using var dir = new TestDirectory();
        SortedDictionary<string, string> model = MakeEntries(300, "held");
        TestMaps.Build(model).Share("deleted", options: dir.Options);
        string[] expected = ["1", model.Count.ToString(CultureInfo.InvariantCulture), MapChecksum.Of(model)];

        using var child = ChildReader.Start(dir.Path);
        child.Ok("open deleted");
        child.Ok("spin");
        Assert.True(SharedMap.Delete("deleted", dir.Options));
        Assert.False(SharedMap.Exists("deleted", dir.Options));

        Assert.Equal("notfound", child.Send("fresh deleted"));
        Assert.Equal("notfound", child.Send("open deleted")); // and the held map stays held
        Assert.Equal(expected, child.Ok("check"));
        Thread.Sleep(200);
        string[] spun = child.Ok("stop");
        Assert.True(long.Parse(spun[0], CultureInfo.InvariantCulture) > 0, "the child's reader loop never ran");
        Assert.Equal("0", spun[1]);
        Assert.Equal(expected, child.Ok("check"));
    }

    [Fact]
    public void ShareForce_WhileChildHoldsOldVersion_ChildReadsOldFreshOpenSeesNew()
    {
        using var dir = new TestDirectory();
        SortedDictionary<string, string> old = MakeEntries(300, "old");
        TestMaps.Build(old).Share("replaced", options: dir.Options);

        using var child = ChildReader.Start(dir.Path);
        child.Ok("open replaced");
        child.Ok("spin");
        SortedDictionary<string, string> latest = old;
        for (int version = 2; version <= 6; version++)
        {
            latest = MakeEntries(100 + (version * 50), "new" + version.ToString(CultureInfo.InvariantCulture));
            TestMaps.Build(latest).Share("replaced", force: true, dir.Options);
            Assert.Equal(
                [version.ToString(CultureInfo.InvariantCulture), latest.Count.ToString(CultureInfo.InvariantCulture), MapChecksum.Of(latest)],
                child.Ok("fresh replaced"));
        }

        Assert.Equal(["1", old.Count.ToString(CultureInfo.InvariantCulture), MapChecksum.Of(old)], child.Ok("check"));
        string[] spun = child.Ok("stop");
        Assert.True(long.Parse(spun[0], CultureInfo.InvariantCulture) > 0, "the child's reader loop never ran");
        Assert.Equal("0", spun[1]);

        // Re-opening the held name moves the child to the newest version.
        Assert.Equal(["6", latest.Count.ToString(CultureInfo.InvariantCulture)], child.Ok("open replaced"));
    }

    [Fact]
    public async Task Publish_ManyVersionsWhileChildrenFollow_EverySnapshotSelfConsistent()
    {
        // Long stress is opt-in: SHMAP_STRESS_SECONDS=60 dotnet test --filter Publish_ManyVersions.
        int milliseconds = int.TryParse(Environment.GetEnvironmentVariable("SHMAP_STRESS_SECONDS"), CultureInfo.InvariantCulture, out int seconds) ? seconds * 1000 : 1500;
        using var dir = new TestDirectory();
        PublishVersion(dir, 1);

        using var first = ChildReader.Start(dir.Path);
        using var second = ChildReader.Start(dir.Path);
        first.Ok("open followed"); // both are up and running before the clock starts
        second.Ok("open followed");
        string command = "follow followed " + milliseconds.ToString(CultureInfo.InvariantCulture);
        Task<string>[] replies = [first.SendAsync(command), second.SendAsync(command)];

        long version = 1;
        Task all = Task.WhenAll(replies);
        while (!all.IsCompleted)
        {
            PublishVersion(dir, ++version);
            await Task.Delay(5);
        }

        await all.WaitAsync(ChildReader.DefaultTimeout);
        foreach (Task<string> reply in replies)
        {
            string[] words = (await reply).Split(' ', 5);
            output.WriteLine($"follow: {await reply} (parent published {version} versions)");
            Assert.True(words[0] == "ok", $"follow answered '{await reply}'");
            int opens = int.Parse(words[1], CultureInfo.InvariantCulture);
            int versions = int.Parse(words[2], CultureInfo.InvariantCulture);
            Assert.True(words[3] == "0", $"{words[3]} of {opens} snapshots were inconsistent; first: {(words.Length > 4 ? words[4] : string.Empty)}");
            Assert.True(opens > 10, $"only {opens} opens");
            Assert.True(versions > 1, $"saw only {versions} versions while {version} were published");
        }
    }

    [Fact]
    public void ChildReader_ReplyTimesOut_ChildIsKilled()
    {
        using var dir = new TestDirectory();
        using var child = ChildReader.Start(dir.Path);
        child.Send("fresh warm-up");
        using var process = System.Diagnostics.Process.GetProcessById(child.Pid);
        Assert.Throws<TimeoutException>(() => child.Send("follow never-published 60000", TimeSpan.FromMilliseconds(300)));
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)), "a child that timed out was left running");
    }

    private static void PublishVersion(TestDirectory dir, long version)
    {
        var builder = new SharedMapBuilder();
        for (int i = 0; i < MapChecksum.VersionedCount(version); i++)
        {
            string key = "k" + i.ToString("000", CultureInfo.InvariantCulture);
            builder.Set(key, MapChecksum.VersionedValue(version, key));
        }

        Assert.Equal(version, builder.Publish("followed", dir.Options));
    }

    [Fact]
    public void ManyChildren_OneSharedMap_ShareOnePhysicalCopy()
    {
        const int Children = 3;
        using var dir = new TestDirectory();
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        for (int i = 0; i < 4000; i++)
        {
            string n = i.ToString(CultureInfo.InvariantCulture);
            model["page-" + n] = n + new string('p', 1000);
        }

        TestMaps.Build(model).Share("paged", options: dir.Options);
        string path = Path.Combine(dir.Path, "paged.shmap");
        long fileKb = new FileInfo(path).Length / 1024;
        string[] expected = ["1", model.Count.ToString(CultureInfo.InvariantCulture), MapChecksum.Of(model)];

        var children = new List<ChildReader>();
        try
        {
            for (int i = 0; i < Children; i++)
            {
                children.Add(ChildReader.Start(dir.Path));
            }

            foreach (ChildReader child in children)
            {
                child.Ok("open paged");
                Assert.Equal(expected, child.Ok("check")); // touches every page of the mapping
            }

            foreach (ChildReader child in children)
            {
                (long rss, long pss, long shared) = MappingMemory(child.Pid, path);
                output.WriteLine($"child {child.Pid}: snapshot {fileKb} kB, Rss {rss} kB, Pss {pss} kB, shared {shared} kB");
                Assert.True(rss >= fileKb * 9 / 10, $"child {child.Pid}: Rss {rss} kB of a {fileKb} kB snapshot it read entirely");
                Assert.True(shared >= rss * 9 / 10, $"child {child.Pid}: only {shared} of {rss} kB resident are shared");

                // Pss splits each page among the processes mapping it: one copy for all children.
                Assert.True(pss <= (rss / Children) + (rss / 10) + 8, $"child {child.Pid}: Pss {pss} kB for Rss {rss} kB: the pages are not shared by {Children} processes");
            }
        }
        finally
        {
            foreach (ChildReader child in children)
            {
                child.Dispose();
            }
        }
    }

    /// <summary>Rss, Pss and Shared_Clean + Shared_Dirty (kB) of <paramref name="pid"/>'s mapping of <paramref name="path"/>.</summary>
    private static (long Rss, long Pss, long Shared) MappingMemory(int pid, string path)
    {
        string[] lines = File.ReadAllLines($"/proc/{pid}/smaps");
        long rss = 0;
        long pss = 0;
        long shared = 0;
        bool found = false;
        bool inside = false;
        foreach (string line in lines)
        {
            if (MappingHeader().IsMatch(line))
            {
                inside = line.EndsWith(path, StringComparison.Ordinal);
                found |= inside;
                continue;
            }

            if (!inside)
            {
                continue;
            }

            Match field = SizeField().Match(line);
            if (!field.Success)
            {
                continue;
            }

            long kb = long.Parse(field.Groups[2].Value, CultureInfo.InvariantCulture);
            switch (field.Groups[1].Value)
            {
                case "Rss":
                    rss += kb;
                    break;
                case "Pss":
                    pss += kb;
                    break;
                case "Shared_Clean" or "Shared_Dirty":
                    shared += kb;
                    break;
                default:
                    break;
            }
        }

        Assert.True(found, $"child {pid} has no mapping of {path}");
        return (rss, pss, shared);
    }

    [GeneratedRegex(@"^[0-9a-f]+-[0-9a-f]+ ")]
    private static partial Regex MappingHeader();

    [GeneratedRegex(@"^(\w+):\s+(\d+) kB$")]
    private static partial Regex SizeField();
}
