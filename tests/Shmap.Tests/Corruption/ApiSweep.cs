using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Shmap.Format;
using Xunit.Sdk;

namespace Shmap.Tests.Corruption;

/// <summary>What one sweep over a damaged snapshot saw.</summary>
internal readonly record struct SweepResult(bool RejectedAtOpen, bool VerifyThrew, Exception? OpenError);

/// <summary>
/// Calls every reading API on a possibly damaged snapshot. Each call may return data or throw
/// <see cref="SnapshotFormatException"/>/<see cref="SnapshotVersionException"/>; any other exception
/// is a failure. When <see cref="SharedMap.Verify"/> passes, the map must also be exactly a correct
/// map of what it enumerates: Verify may not pass bytes that lookups then misread.
/// </summary>
internal static class ApiSweep
{
    private static readonly string[] s_misses = ["", "missing", "红红", "\uFFFF", "😀😀", new('m', 300), new('红', 300)];

    public static bool IsFormatError(Exception e) => e is SnapshotFormatException or SnapshotVersionException;

    public static SweepResult Run(Func<SharedMap> open, IReadOnlyCollection<string> keys, string context)
    {
        SharedMap map;
        try
        {
            map = open();
        }
        catch (Exception e) when (IsFormatError(e))
        {
            return new SweepResult(true, false, e);
        }
        catch (Exception e)
        {
            throw Fail(context, "open", e);
        }

        using (map)
        {
            var probes = keys.Concat(s_misses).ToList();
            Call(context, "Count", () => map.Count);
            Call(context, "Version", () => map.Version);
            Call(context, "PublishedAt", () => map.PublishedAt);
            Call(context, "ByteLength", () => map.ByteLength);
            foreach (string key in probes)
            {
                Call(context, "Get", () => map.Get(key));
                Call(context, "TryGetValue(string)", () => map.TryGetValue(key, out string? _));
                byte[] utf8 = Encoding.UTF8.GetBytes(key);
                Call(context, "TryGetValue(span)", () => map.TryGetValue(utf8, out ReadOnlySpan<byte> value) ? value.ToArray().Length : -1);
                Call(context, "ContainsKey", () => map.ContainsKey(key));
                Call(context, "ContainsKey(span)", () => map.ContainsKey(utf8.AsSpan()));
                Call(context, "IndexOf", () => map.IndexOf(key));
            }

            string[] batch = [.. probes, .. keys];
            Call(context, "GetMany(string)", () =>
            {
                map.GetMany(batch, new string?[batch.Length]);
                return 0;
            });
            Call(context, "GetMany(UTF-8) + GetValue", () =>
            {
                ReadOnlyMemory<byte>[] utf8 = [.. batch.Select(k => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(k))];
                var refs = new ValueRef[utf8.Length];
                map.GetMany(utf8, refs);
                int total = 0;
                foreach (ValueRef found in refs.Where(r => r.Found))
                {
                    total += map.GetValue(found).Length; // a reference from this map is always valid
                }

                return total;
            });
            Call(context, "WriteTo", () =>
            {
                using var copy = new MemoryStream();
                map.WriteTo(copy);
                return copy.Length;
            });
            Call(context, "enumerate", () => map.ToList());
            Call(context, "Keys", () => map.Keys.ToList());
            Call(context, "Range(null, null)", () => map.Range(null, null).ToList());
            Call(context, "Range(a, t)", () => map.Range("a", "t").ToList());
            Call(context, "Range(z, a)", () => map.Range("z", "a").ToList());
            Call(context, "Range(红, null)", () => map.Range("红", null).ToList());
            Call(context, "StartsWith()", () => map.StartsWith(string.Empty).ToList());
            Call(context, "StartsWith(k)", () => map.StartsWith("k").ToList());
            Call(context, "StartsWith(红)", () => map.StartsWith("红").ToList());
            for (int i = 0; i < map.Count; i++)
            {
                Call(context, "GetAt", () => map.GetAt(i));
            }

            bool verifyThrew = !Call(context, "Verify", () =>
            {
                map.Verify();
                return 0;
            });

            if (!verifyThrew)
            {
                try
                {
                    SelfConsistent(map, probes);
                }
                catch (Exception e)
                {
                    throw Fail(context, "Verify() passed but the map is not self-consistent", e);
                }
            }

            return new SweepResult(false, verifyThrew, null);
        }
    }

    /// <summary>
    /// A map that passed Verify() must behave as a correct map of what it enumerates: keys strictly
    /// rising in UTF-8 order, every key found by every lookup with its value and rank, probes not
    /// enumerated are misses, and scans agree with the enumeration.
    /// </summary>
    private static void SelfConsistent(SharedMap map, List<string> probes)
    {
        List<KeyValuePair<string, string>> entries = map.ToList();
        Assert.Equal(entries.Count, map.Count);
        var keys = new HashSet<string>();
        for (int i = 0; i < entries.Count; i++)
        {
            (string key, string value) = entries[i];
            Assert.True(i == 0 || Utf8Order.Instance.Compare(entries[i - 1].Key, key) < 0, $"keys {i - 1} and {i} out of order");
            Assert.True(keys.Add(key));
            Assert.Equal(entries[i], map.GetAt(i));
            Assert.Equal(i, map.IndexOf(key));
            Assert.Equal(value, map.Get(key));
            Assert.True(map.TryGetValue(Encoding.UTF8.GetBytes(key), out ReadOnlySpan<byte> utf8));
            Assert.True(utf8.SequenceEqual(Encoding.UTF8.GetBytes(value)));
        }

        foreach (string probe in probes.Where(p => !keys.Contains(p)))
        {
            Assert.Null(map.Get(probe));
            Assert.Equal(-1, map.IndexOf(probe));
            Assert.False(map.ContainsKey(Encoding.UTF8.GetBytes(probe).AsSpan()));
        }

        SortedDictionary<string, string> model = Utf8Order.NewModel();
        foreach ((string key, string value) in entries)
        {
            model.Add(key, value);
        }

        MapAssert.BatchMatches(model, map, [.. keys, .. probes]);
        Assert.Equal(entries, map.Range(null, null));
        Assert.Equal(entries, map.StartsWith(string.Empty));
        if (entries.Count > 2)
        {
            Assert.Equal(entries.Skip(1).Take(entries.Count - 2), map.Range(entries[1].Key, entries[^1].Key));
        }
    }

    /// <summary>Runs one call; false when it threw a format exception, rethrows anything else as a failure.</summary>
    private static bool Call<T>(string context, string api, Func<T> call)
    {
        try
        {
            _ = call();
            return true;
        }
        catch (Exception e) when (IsFormatError(e))
        {
            return false;
        }
        catch (Exception e)
        {
            throw Fail(context, api, e);
        }
    }

    private static XunitException Fail(string context, string api, Exception e) =>
        new($"{context}: {api} threw {e.GetType().FullName}: {e.Message}\n{e.StackTrace}");

    /// <summary>Recomputes the body checksum (when asked) and the header checksum, as a forger would.</summary>
    public static byte[] Reseal(byte[] snapshot, bool body)
    {
        if (snapshot.Length < SnapshotLayout.HeaderSize)
        {
            return snapshot;
        }

        if (body)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(snapshot.AsSpan(SnapshotLayout.BodyChecksumOffset), XxHash3.HashToUInt64(snapshot.AsSpan(SnapshotLayout.HeaderSize)));
        }

        BinaryPrimitives.WriteUInt64LittleEndian(snapshot.AsSpan(SnapshotLayout.HeaderChecksumOffset), XxHash3.HashToUInt64(snapshot.AsSpan(0, SnapshotLayout.HeaderChecksumOffset)));
        return snapshot;
    }

    /// <summary>Runs <paramref name="action"/> on its own thread and fails if it does not finish in time (a hang).</summary>
    public static void Bounded(TimeSpan limit, Action action)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        {
            IsBackground = true,
            Name = "corruption sweep",
        };
        thread.Start();
        if (!thread.Join(limit))
        {
            Assert.Fail($"The sweep did not finish within {limit}: a damaged snapshot made a call hang.");
        }

        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        }
    }
}
