using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Shmap.Store;

namespace Shmap.Tests.Unit;

public class LiveSharedMapTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void Follow_NothingPublished_ThrowsSharedMapNotFound()
    {
        using var dir = new TestDirectory();
        Assert.Throws<SharedMapNotFoundException>(() => SharedMap.Follow("absent", dir.Options));
    }

    [Fact]
    public void Version_AfterEachPublishReturns_IsThatVersionAtTheNextCall()
    {
        using var dir = new TestDirectory();
        var builder = Map("v", 1);
        Assert.Equal(1, builder.Publish("n", dir.Options));
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        long previous = live.Version;
        Assert.Equal(1, previous);
        for (int i = 2; i <= 50; i++)
        {
            builder.Set("k", "v" + i.ToString(CultureInfo.InvariantCulture));
            long published = builder.Publish("n", dir.Options);

            // No delay: the call right after Publish returned answers from the new version.
            Assert.Equal(published, live.Version);
            Assert.True(published > previous);
            Assert.Equal("v" + i.ToString(CultureInfo.InvariantCulture), live.Get("k"));
            previous = published;
        }
    }

    [Fact]
    public void Follow_SnapshotCopiedInWithoutControlFile_FollowsTheFirstPublish()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        using (FileStream file = File.Create(Path.Combine(dir.Path, "n.shmap")))
        {
            Map("copied", 3).WriteTo(file);
        }

        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        Assert.Equal(0, live.Version);
        Assert.Equal("copied", live.Get("k"));
        Assert.False(File.Exists(Path.Combine(dir.Path, "n.lock")));

        Assert.Equal(1, Map("published", 3).Publish("n", dir.Options));

        // The follower looks for the control file now and then (at most every 100 ms).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (live.Version != 1 && clock.Elapsed < s_bound)
        {
            Thread.Sleep(5);
        }

        Assert.Equal(1, live.Version);
        Assert.Equal("published", live.Get("k"));
        Assert.Equal(2, Map("again", 3).Publish("n", dir.Options));
        Assert.Equal("again", live.Get("k")); // from now on at the next call
    }

    [Fact]
    public void PublishedAt_AfterPublish_IsWhenItWasPublished()
    {
        using var dir = new TestDirectory();
        var builder = Map("v", 1);
        DateTimeOffset before = Truncate(DateTimeOffset.UtcNow);
        builder.Publish("n", dir.Options);
        DateTimeOffset after = DateTimeOffset.UtcNow;
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        DateTimeOffset first = live.PublishedAt ?? throw new InvalidOperationException("no PublishedAt");
        Assert.InRange(first, before, after);

        Thread.Sleep(5);
        before = Truncate(DateTimeOffset.UtcNow);
        builder.Publish("n", dir.Options);
        after = DateTimeOffset.UtcNow;
        DateTimeOffset second = live.PublishedAt ?? throw new InvalidOperationException("no PublishedAt");
        Assert.InRange(second, before, after);
        Assert.True(second > first);
    }

    [Fact]
    public void IsLatest_NewerVersionOrDelete_TurnsFalse()
    {
        using var dir = new TestDirectory();
        var builder = Map("v", 1);
        builder.Publish("n", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        using SharedMap opened = SharedMap.Open("n", dir.Options);
        using SharedMap snapshot = live.Snapshot();
        Assert.True(opened.IsLatest);
        Assert.True(snapshot.IsLatest);

        builder.Publish("n", dir.Options);
        Assert.False(opened.IsLatest);
        Assert.False(snapshot.IsLatest);
        using (SharedMap newest = live.Snapshot())
        {
            Assert.True(newest.IsLatest);
            Assert.True(SharedMap.Delete("n", dir.Options));
            Assert.False(newest.IsLatest);
        }

        Assert.False(opened.IsLatest);
        Assert.Equal("v", opened.Get("k")); // still readable
    }

    [Fact]
    public async Task WaitForNewVersionAsync_Publish_CompletesWithTheNewVersion()
    {
        using var dir = new TestDirectory();
        var builder = Map("v", 1);
        builder.Publish("n", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);

        ChannelReader<long> parks = Parks(live);
        Task<long> wait = live.WaitForNewVersionAsync();
        await ParkedAfterAsync(parks, 0); // it looked, found version 1 still the newest, and waits
        Assert.False(wait.IsCompleted);
        long published = builder.Publish("n", dir.Options);
        Assert.Equal(published, await wait.WaitAsync(s_bound));
        Assert.Equal(published, live.Version);
    }

    [Fact]
    public async Task WaitForNewVersionAsync_PublishedFromAnotherThreadRepeatedly_WakesEachTime()
    {
        using var dir = new TestDirectory();
        var builder = Map("v", 1);
        builder.Publish("n", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        for (int i = 0; i < 20; i++)
        {
            Task<long> wait = live.WaitForNewVersionAsync();
            long published = await Task.Run(() => builder.Publish("n", dir.Options));
            Assert.Equal(published, await wait.WaitAsync(s_bound));
        }
    }

    [Fact]
    public async Task WaitForNewVersionAsync_Cancelled_ThrowsOperationCanceled()
    {
        using var dir = new TestDirectory();
        Map("v", 1).Publish("n", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        using var cancel = new CancellationTokenSource();
        ChannelReader<long> parks = Parks(live);
        Task<long> wait = live.WaitForNewVersionAsync(cancel.Token);
        await ParkedAfterAsync(parks, 0); // cancelled while it waits, not before it looked
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(s_bound));

        using var already = new CancellationTokenSource();
        already.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => live.WaitForNewVersionAsync(already.Token).WaitAsync(s_bound));
    }

    [Fact]
    public async Task WaitForNewVersionAsync_NotificationsUnavailable_PollingWakes()
    {
        using var dir = new TestDirectory();
        var builder = Map("v", 1);
        builder.Publish("n", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        live.DisableNotifications();
        ChannelReader<long> parks = Parks(live);
        for (int i = 0; i < 3; i++)
        {
            long before = live.WaitLooks;
            Task<long> wait = live.WaitForNewVersionAsync();

            // Its second look parked: a poll woke it, it found nothing newer and waits again.
            await ParkedAfterAsync(parks, before + 1);
            Assert.False(wait.IsCompleted);

            // Published from another thread: nothing in this follower is called until the poll.
            long published = await Task.Run(() => builder.Publish("n", dir.Options));
            Assert.Equal(published, await wait.WaitAsync(s_bound));
        }
    }

    [Fact]
    public async Task WaitForNewVersionAsync_NameDeleted_WaitsForTheNextPublish()
    {
        using var dir = new TestDirectory();
        var builder = Map("v", 1);
        builder.Publish("n", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        ChannelReader<long> parks = Parks(live);
        Task<long> wait = live.WaitForNewVersionAsync();
        await ParkedAfterAsync(parks, 0);
        Assert.True(SharedMap.Delete("n", dir.Options));

        // A look begun after the delete (woken by its notification, or by the poll) found nothing newer and waits again.
        await ParkedAfterAsync(parks, live.WaitLooks);
        Assert.False(wait.IsCompleted);
        Assert.True(live.IsDeleted);

        long published = builder.Publish("n", dir.Options);
        Assert.Equal(2, published);
        Assert.Equal(published, await wait.WaitAsync(s_bound));
    }

    [Fact]
    public void Delete_FollowedName_KeepsLastVersionUntilPublishedAgain()
    {
        using var dir = new TestDirectory();
        var builder = Map("v", 1);
        builder.Publish("n", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        builder.Set("k", "v2");
        builder.Publish("n", dir.Options);
        Assert.Equal("v2", live.Get("k"));
        Assert.False(live.IsDeleted);

        Assert.True(SharedMap.Delete("n", dir.Options));
        Assert.False(SharedMap.Exists("n", dir.Options));
        Assert.True(live.IsDeleted);
        Assert.Equal("v2", live.Get("k"));
        Assert.Equal(2, live.Version);
        Assert.False(SharedMap.Delete("n", dir.Options));

        builder.Set("k", "v3");
        Assert.Equal(3, builder.Publish("n", dir.Options)); // numbering goes on
        Assert.Equal("v3", live.Get("k"));
        Assert.Equal(3, live.Version);
        Assert.False(live.IsDeleted);
        Assert.Equal(["n.lock", "n.shmap", "n.wlock"], Directory.GetFiles(dir.Path).Select(static p => Path.GetFileName(p)!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Snapshot_LaterPublishesAndFollowerDisposed_KeepsReadingItsVersion()
    {
        using var dir = new TestDirectory();
        var builder = Map("v1", 100);
        builder.Publish("n", dir.Options);
        var live = SharedMap.Follow("n", dir.Options);
        using SharedMap snapshot = live.Snapshot();
        for (int i = 2; i <= 5; i++)
        {
            builder = Map("v" + i.ToString(CultureInfo.InvariantCulture), 100 + i);
            builder.Publish("n", dir.Options);
            Assert.Equal(i, live.Version); // the follower moves on, past the snapshot's version
        }

        live.Dispose();
        Assert.Equal(1, snapshot.Version);
        Assert.Equal(100, snapshot.Count);
        Assert.Equal("v1", snapshot.Get("k"));
        Assert.All(snapshot, static e => Assert.StartsWith(e.Key == "k" ? "v1" : "v1:", e.Value, StringComparison.Ordinal));
        snapshot.Verify();
    }

    [Fact]
    public void TryGetValueUtf8_FollowerMovedOnOnce_SpanStillValid()
    {
        using var dir = new TestDirectory();
        Map("v1", 10).Publish("n", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        Assert.True(live.TryGetValue("k"u8, out ReadOnlySpan<byte> value));

        Map("v2", 10).Publish("n", dir.Options);
        Assert.Equal("v2", live.Get("k")); // moved on by one version: the span's version is the previous one
        Assert.Equal("v1", Encoding.UTF8.GetString(value));
    }

    [Fact]
    public void Enumerate_PublishDuringEnumeration_YieldsOneVersion()
    {
        using var dir = new TestDirectory();
        Map("v1", 50).Publish("n", dir.Options);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        var seen = new List<KeyValuePair<string, string>>();
        int i = 2;
        foreach (KeyValuePair<string, string> entry in live)
        {
            seen.Add(entry);
            Map("v" + i.ToString(CultureInfo.InvariantCulture), 50 + i).Publish("n", dir.Options);
            i++;
        }

        Assert.Equal(50, seen.Count);
        Assert.All(seen, static e => Assert.StartsWith("v1", e.Value, StringComparison.Ordinal));
        Assert.Equal(i - 1, live.Version);
    }

    [Fact]
    public async Task Dispose_ThenAnyCall_ThrowsObjectDisposed()
    {
        using var dir = new TestDirectory();
        Map("v", 3).Publish("n", dir.Options);
        var live = SharedMap.Follow("n", dir.Options);
        live.Dispose();
        live.Dispose(); // twice is fine

        Assert.Throws<ObjectDisposedException>(() => live.Version);
        Assert.Throws<ObjectDisposedException>(() => live.Count);
        Assert.Throws<ObjectDisposedException>(() => live.PublishedAt);
        Assert.Throws<ObjectDisposedException>(() => live.IsDeleted);
        Assert.Throws<ObjectDisposedException>(() => live.Get("k"));
        Assert.Throws<ObjectDisposedException>(() => live["k"]);
        Assert.Throws<ObjectDisposedException>(() => live.TryGetValue("k", out _));
        Assert.Throws<ObjectDisposedException>(() => live.TryGetValue("k"u8, out _));
        Assert.Throws<ObjectDisposedException>(() => live.ContainsKey("k"));
        Assert.Throws<ObjectDisposedException>(() => live.GetAt(0));
        Assert.Throws<ObjectDisposedException>(() => live.IndexOf("k"));
        Assert.Throws<ObjectDisposedException>(() => live.Snapshot());
        Assert.Throws<ObjectDisposedException>(() => live.Range(null, null));
        Assert.Throws<ObjectDisposedException>(() => live.StartsWith("k"));
        Assert.Throws<ObjectDisposedException>(() => live.Keys.ToList());
        Assert.Throws<ObjectDisposedException>(() => live.GetEnumerator().MoveNext());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => live.WaitForNewVersionAsync().WaitAsync(s_bound));
    }

    [Fact]
    public async Task Dispose_WhileWaiting_WaitEndsWithObjectDisposed()
    {
        using var dir = new TestDirectory();
        Map("v", 3).Publish("n", dir.Options);
        var live = SharedMap.Follow("n", dir.Options);
        ChannelReader<long> parks = Parks(live);
        Task<long> wait = live.WaitForNewVersionAsync();
        await ParkedAfterAsync(parks, 0); // disposed while it waits, not before it looked
        live.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => wait.WaitAsync(s_bound));
    }

    [Fact]
    public void ConcurrentReaders_PublisherPublishing_EachCallSeesOneVersionNeverGoingBack()
    {
        using var dir = new TestDirectory();
        const int Keys = 200;
        const int Versions = 100;
        PublishTagged(dir, 1, Keys);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        using var stop = new CancellationTokenSource();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long reads = 0;
        var readers = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            long floor = 0;

            // Zero-copy lookups on a follower of this thread only (see TryGetValue(utf8)).
            using LiveSharedMap own = SharedMap.Follow("n", dir.Options);
            byte[][] keys = [.. Enumerable.Range(0, Keys).Select(static i => Encoding.UTF8.GetBytes(Key(i)))];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    long version = live.Version;
                    Check(version >= floor, $"Version {version} after {floor}");
                    floor = version;
                    int i = random.Next(Keys);
                    long tag = (t & 1) == 0
                        ? TagOf(live.Get(Key(i)), Key(i))
                        : (own.TryGetValue(keys[i], out ReadOnlySpan<byte> span) ? TagOf(Encoding.UTF8.GetString(span), Key(i)) : -1);
                    Check(tag >= floor, $"lookup answered by version {tag} after {floor}");
                    floor = Math.Max(floor, tag);
                    if (random.Next(20) == 0)
                    {
                        using SharedMap snapshot = live.Snapshot();
                        Check(snapshot.Version >= floor, $"snapshot of version {snapshot.Version} after {floor}");
                        floor = snapshot.Version;
                        Check(snapshot.Count == Keys + 1, $"snapshot of version {snapshot.Version} has {snapshot.Count} entries");
                        foreach (KeyValuePair<string, string> entry in snapshot)
                        {
                            if (entry.Key != "version")
                            {
                                Check(TagOf(entry.Value, entry.Key) == snapshot.Version, $"snapshot of version {snapshot.Version}: {entry.Key}={entry.Value}");
                            }
                        }
                    }

                    Interlocked.Increment(ref reads);
                }
                catch (Exception e)
                {
                    errors.Enqueue(e.ToString());
                }
            }
        })).ToList();
        readers.ForEach(static r => r.Start());

        for (long v = 2; v <= Versions; v++)
        {
            PublishTagged(dir, v, Keys);
        }

        Thread.Sleep(50);
        stop.Cancel();
        readers.ForEach(static r => Assert.True(r.Join(s_bound)));
        Assert.Empty(errors);
        Assert.Equal(Versions, live.Version);
        Assert.True(reads > 1000, $"only {reads} reads");

        void Check(bool ok, string message)
        {
            if (!ok)
            {
                errors.Enqueue(message);
            }
        }
    }

    [Fact]
    public void Follow_PublisherBetweenRenameAndRecord_EveryFollowerAnswersWithWhatAnOpenerSees()
    {
        // A publisher that has renamed version 2 into place but not yet recorded it (descheduled,
        // say): one follower that looks now finds version 2; another that looked just before the
        // rename must not keep answering version 1 after that.
        using var dir = new TestDirectory();
        Map("one", 3).Publish("n", dir.Options);
        using LiveSharedMap early = SharedMap.Follow("n", dir.Options);
        Assert.Equal("one", early.Get("k"));

        SharedName name = SharedName.Create("n", dir.Options);
        using (ControlFile control = ControlFile.Lock(name, UnixFileMode.UserRead | UnixFileMode.UserWrite))
        {
            control.BeginChange();
            Assert.Equal("one", early.Get("k")); // looked after the change began, before the rename
            StageVersion(dir, "n", "two", version: 2);

            using LiveSharedMap late = SharedMap.Follow("n", dir.Options);
            using SharedMap opened = SharedMap.Open("n", dir.Options);
            Assert.Equal(2, opened.Version);
            Assert.Equal("two", late.Get("k"));
            Assert.Equal("two", early.Get("k"));
            Assert.Equal(2, early.Version);

            control.RecordPublish(2, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }

        Assert.Equal(2, early.Version);
        Assert.Equal(3, Map("three", 3).Publish("n", dir.Options));
        Assert.Equal("three", early.Get("k"));
    }

    [Fact]
    public void Follow_PublisherDiedBetweenRenameAndRecord_FollowersServeItsVersionAndTheNextPublishRepairs()
    {
        using var dir = new TestDirectory();
        Map("one", 3).Publish("n", dir.Options);
        using LiveSharedMap follower = SharedMap.Follow("n", dir.Options);
        Assert.Equal(1, follower.Version);

        SharedName name = SharedName.Create("n", dir.Options);
        using (ControlFile control = ControlFile.Lock(name, UnixFileMode.UserRead | UnixFileMode.UserWrite))
        {
            control.BeginChange();
            StageVersion(dir, "n", "two", version: 2);
        }

        // The lock is free and the word is odd: the change was abandoned. Followers serve what is there.
        using (ControlFile reader = ControlFile.TryOpenForReading(name) ?? throw new InvalidOperationException("no control file"))
        {
            Assert.True(ControlFile.IsChanging(reader.Sequence));
            Assert.True(reader.IsChangeAbandoned());
        }

        Assert.Equal("two", follower.Get("k"));
        Assert.Equal(2, follower.Version);
        using (LiveSharedMap late = SharedMap.Follow("n", dir.Options))
        {
            Assert.Equal("two", late.Get("k"));
        }

        // The next publisher settles the word and numbers on from the file it finds.
        Assert.Equal(3, Map("three", 3).Publish("n", dir.Options));
        using (ControlFile reader = ControlFile.TryOpenForReading(name) ?? throw new InvalidOperationException("no control file"))
        {
            Assert.False(ControlFile.IsChanging(reader.Sequence));
        }

        Assert.Equal("three", follower.Get("k"));
    }

    [Fact]
    public void IsChangeAbandoned_WhileAPublisherHoldsTheLock_IsFalse()
    {
        using var dir = new TestDirectory();
        Map("one", 3).Publish("n", dir.Options);
        SharedName name = SharedName.Create("n", dir.Options);
        using ControlFile reader = ControlFile.TryOpenForReading(name) ?? throw new InvalidOperationException("no control file");
        using (ControlFile control = ControlFile.Lock(name, UnixFileMode.UserRead | UnixFileMode.UserWrite))
        {
            control.BeginChange();
            Assert.True(ControlFile.IsChanging(reader.Sequence));
            Assert.False(reader.IsChangeAbandoned());
            control.EndChange();
            Assert.False(ControlFile.IsChanging(reader.Sequence));
        }

        Assert.True(reader.IsChangeAbandoned());
    }

    [Fact]
    public async Task Dispose_WhileThreadsReadAndAPublisherPublishes_CallsAnswerOrThrowObjectDisposed()
    {
        using var dir = new TestDirectory();
        var builder = Map("v0", 2000);
        builder.Publish("n", dir.Options);
        for (int round = 0; round < 20; round++)
        {
            var live = SharedMap.Follow("n", dir.Options);
            using var start = new Barrier(4);
            int answered = 0;
            int disposed = 0;
            var readers = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
            {
                start.SignalAndWait();
                var random = new Random(round * 10 + t);
                try
                {
                    while (true)
                    {
                        string key = "e" + random.Next(1, 2000).ToString("D4", CultureInfo.InvariantCulture);
                        string value = live.Get(key) ?? throw new InvalidOperationException($"{key} missing");
                        Assert.EndsWith(":" + int.Parse(key[1..], CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture), value);
                        // Not the span overload: its span is only valid until Dispose, by contract.
                        Assert.True(live.TryGetValue(key, out string? again));
                        Assert.Equal(value, again);
                        Interlocked.Increment(ref answered);
                    }
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref disposed);
                }
            })).ToArray();
            var publisher = Task.Run(() =>
            {
                start.SignalAndWait();
                for (int i = 1; i <= 3; i++)
                {
                    builder.Set("k", "v" + i.ToString(CultureInfo.InvariantCulture));
                    builder.Publish("n", dir.Options);
                }
            });
            start.SignalAndWait();
            Thread.Sleep(2 + (round % 5));
            live.Dispose();
            await Task.WhenAll([.. readers, publisher]).WaitAsync(s_bound);
            Assert.Equal(2, disposed);
        }
    }

    /// <summary>Puts a snapshot stamped <paramref name="version"/> in place of <c>name.shmap</c> with a rename, as step 6 of a publish does.</summary>
    /// <summary>The numbers of the looks by <paramref name="live"/>'s waiters that found no newer version and parked, as they park.</summary>
    private static ChannelReader<long> Parks(LiveSharedMap live)
    {
        var parks = Channel.CreateUnbounded<long>();
        live.OnWaitParked(look => parks.Writer.TryWrite(look));
        return parks.Reader;
    }

    /// <summary>Returns once a look numbered above <paramref name="after"/> (one begun after the first <paramref name="after"/> looks) has parked.</summary>
    private static async Task ParkedAfterAsync(ChannelReader<long> parks, long after)
    {
        using var timeout = new CancellationTokenSource(s_bound);
        while (await parks.ReadAsync(timeout.Token) <= after)
        {
        }
    }

    private static void StageVersion(TestDirectory dir, string name, string value, long version)
    {
        // Publish under a scratch name until it reaches the version, then move that file in place.
        var builder = Map(value, 3);
        for (long v = 0; v < version; v++)
        {
            builder.Publish("staging", dir.Options);
        }

        File.Move(Path.Combine(dir.Path, "staging.shmap"), Path.Combine(dir.Path, name + ".shmap"), overwrite: true);
    }

    [Fact]
    public void Followers_UsedInTurnOnOneThread_EachAnswersFromItsNewestVersion()
    {
        // Alternating between followers on one thread (and disposing one): each answers from its own newest version.
        using var dir = new TestDirectory();
        Map("a1", 3).Publish("a", dir.Options);
        Map("b1", 3).Publish("b", dir.Options);
        LiveSharedMap a = SharedMap.Follow("a", dir.Options);
        using LiveSharedMap b = SharedMap.Follow("b", dir.Options);
        for (int v = 2; v <= 6; v++)
        {
            string va = "a" + v.ToString(CultureInfo.InvariantCulture);
            string vb = "b" + v.ToString(CultureInfo.InvariantCulture);
            Map(va, 3).Publish("a", dir.Options);
            Assert.Equal(va, a.Get("k"));
            Map(vb, 3).Publish("b", dir.Options);
            Assert.Equal(vb, b.Get("k"));
            Assert.Equal(va + ":2", a.Get("e0002"));
            Assert.True(b.TryGetValue("e0001"u8, out ReadOnlySpan<byte> value));
            Assert.Equal(vb + ":1", Encoding.UTF8.GetString(value));
        }

        a.Dispose();
        Assert.Throws<ObjectDisposedException>(() => a.Get("k"));
        Map("b7", 3).Publish("b", dir.Options);
        Assert.Equal("b7", b.Get("k"));
        Assert.Equal(7, b.Version);
    }

    [Fact]
    public void Follow_ManyPublishes_ReusesAtMostThreeRangesAndMapsAtMostTwoVersions()
    {
        using var dir = new TestDirectory();
        PublishTagged(dir, 1, 2000);
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        long one = live.ReservedBytes;
        Assert.True(one > 0);
        for (long v = 2; v <= 60; v++)
        {
            PublishTagged(dir, v, 2000);
            Assert.Equal(v, TagOf(live.Get(Key(7)), Key(7)));

            // Served, the one before, and a zeroed one for the next: never more, whatever the count of versions.
            Assert.True(live.ReservedBytes <= 3 * one, $"version {v}: {live.ReservedBytes} bytes reserved, ranges are {one}");

            // The version let go is zeroed on a pool thread: two files mapped once that is done.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int files;
            while ((files = Shmap.Stress.ProcMemory.SnapshotBytesMapped(Environment.ProcessId, dir.Path).Files) > 2 && clock.Elapsed < s_bound)
            {
                Thread.Sleep(1);
            }

            Assert.True(files <= 2, $"version {v}: {files} snapshot files mapped");
        }
    }

    [Fact]
    public void Dispose_WhileThreadsRead_EveryCallAnswersRightOrThrowsObjectDisposed()
    {
        for (int round = 0; round < 20; round++)
        {
            using var dir = new TestDirectory();
            PublishTagged(dir, 1, 300);
            var live = SharedMap.Follow("n", dir.Options);
            var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
            using var started = new CountdownEvent(3);
            var readers = Enumerable.Range(0, 3).Select(t => new Thread(() =>
            {
                byte[] utf8 = Encoding.UTF8.GetBytes(Key(t));
                string?[] many = new string?[4];
                started.Signal();
                while (true)
                {
                    try
                    {
                        long tag = t switch
                        {
                            0 => TagOf(live.Get(Key(t)), Key(t)),
                            // Found, not the span's bytes: other threads' calls can move this shared follower on twice while this one reads them (documented).
                            1 => live.TryGetValue(utf8, out ReadOnlySpan<byte> span) && span.Length > 0 ? 1 : -1,
                            _ => GetMany(live, many),
                        };
                        if (tag < 1)
                        {
                            errors.Enqueue($"reader {t}: tag {tag}");
                        }
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }
                    catch (Exception e)
                    {
                        errors.Enqueue(e.ToString());
                        return;
                    }
                }
            })).ToList();
            readers.ForEach(static r => r.Start());
            started.Wait();
            PublishTagged(dir, 2, 300);
            PublishTagged(dir, 3, 300);
            Thread.Sleep(round % 5);
            live.Dispose();
            readers.ForEach(static r => Assert.True(r.Join(s_bound)));
            Assert.Empty(errors);
        }

        static long GetMany(LiveSharedMap live, string?[] values)
        {
            live.GetMany([Key(2), Key(3), "absent", Key(2)], values);
            long tag = TagOf(values[0], Key(2));
            return values[2] is null && TagOf(values[1], Key(3)) == tag && values[3] == values[0] ? tag : -2;
        }
    }

    private static SharedMapBuilder Map(string value, int entries)
    {
        var builder = new SharedMapBuilder();
        builder.Set("k", value);
        for (int i = 1; i < entries; i++)
        {
            builder.Set("e" + i.ToString("D4", CultureInfo.InvariantCulture), value + ":" + i.ToString(CultureInfo.InvariantCulture));
        }

        return builder;
    }

    private static string Key(int i) => "k" + i.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>Publishes version <paramref name="version"/> with every value "{version}:{key}".</summary>
    private static void PublishTagged(TestDirectory dir, long version, int keys)
    {
        var builder = new SharedMapBuilder();
        for (int i = 0; i < keys; i++)
        {
            builder.Set(Key(i), version.ToString(CultureInfo.InvariantCulture) + ":" + Key(i));
        }

        builder.Set("version", version.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(version, builder.Publish("n", dir.Options));
    }

    /// <summary>The version in "{version}:{key}", or -1 when the value is not that.</summary>
    private static long TagOf(string? value, string key)
    {
        int colon = value?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon > 0 && value![(colon + 1)..] == key && long.TryParse(value.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out long version) ? version : -1;
    }

    private static DateTimeOffset Truncate(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
}
