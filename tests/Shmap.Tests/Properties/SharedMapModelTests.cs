using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using CsCheck;
using Xunit.Abstractions;

namespace Shmap.Tests.Properties;

/// <summary>
/// Differential property tests: random Set/Remove sequences are applied to a
/// <see cref="SharedMapBuilder"/> and to a model <see cref="SortedDictionary{TKey, TValue}"/> in UTF-8
/// byte order; the snapshot read back through <see cref="SharedMap.Load(byte[])"/> and through
/// Share + Open must agree with the model on every API. CsCheck shrinks a failure and prints its
/// seed; rerun one with the environment variable CsCheck_Seed=&lt;seed&gt;. CsCheck_Iter=N runs N
/// iterations of each property instead of the defaults (a long opt-in run).
/// </summary>
public class SharedMapModelTests(ITestOutputHelper output)
{
    /// <summary>
    /// Pieces keys and values are made of: few, so that keys repeat (duplicate Sets, hits on Remove)
    /// and share prefixes; every UTF-8 length class, NUL, and U+E000..U+FFFF next to supplementary
    /// characters (their UTF-8 and UTF-16 orders differ).
    /// </summary>
    private static readonly string[] s_pieces =
    [
        "a", "b", "ab", "z", "A", " ", "~", "\0", "\u007F", "\u0080", "é", "ÿ", "\u07FF", "\u0800",
        "红", "是", "中文", "\uD7FF", "\uE000", "\uF8FF", "\uFF21", "\uFFFD", "\uFFFF",
        "😀", "\U00010000", "\U0010FFFF", "𝄞",
    ];

    private static readonly Gen<string> s_key = Gen.OneOfConst(s_pieces).Array[0, 4].Select(string.Concat);

    private static readonly Gen<string> s_value = Gen.Frequency(
        (20, Gen.OneOfConst(s_pieces).Array[0, 8].Select(string.Concat)),
        (1, Gen.Select(Gen.OneOfConst(s_pieces), Gen.Int[500, 3000], (piece, n) => string.Concat(Enumerable.Repeat(piece, n)))));

    private static readonly Gen<Op> s_op = Gen.Frequency(
        (4, Gen.Select(s_key, s_value, (k, v) => new Op(false, k, v))),
        (1, s_key.Select(k => new Op(true, k, string.Empty))));

    private static readonly Gen<string?> s_bound = Gen.Frequency((1, Gen.Const((string?)null)), (4, s_key.Select(k => (string?)k)));

    private static readonly Gen<MapCase> s_case = Gen.Select(
        s_op.Array[0, 80],
        s_key.Array[0, 12],
        Gen.Select(s_bound, s_bound).Array[0, 6],
        s_key.Array[0, 6],
        (ops, probes, ranges, prefixes) => new MapCase(ops, probes, ranges, prefixes));

    private static int s_nameCounter;

    [Fact]
    public void Load_RandomOperations_MatchesModel()
    {
        s_case.Sample(
            c =>
            {
                (SharedMapBuilder builder, SortedDictionary<string, string> model) = Apply(c.Ops);
                MapAssert.BuilderMatches(model, builder, c.Probes);
                using SharedMap map = SharedMap.Load(builder.Dump());
                Assert.Equal(0, map.Version);
                Assert.Null(map.PublishedAt);
                MapAssert.Matches(model, map, c.Probes, c.Ranges, c.Prefixes);
            },
            iter: Iterations(400),
            print: Describe,
            writeLine: output.WriteLine);
    }

    [Fact]
    public void ShareThenOpen_RandomOperations_MatchesModel()
    {
        using var dir = new TestDirectory();
        s_case.Sample(
            c =>
            {
                (SharedMapBuilder builder, SortedDictionary<string, string> model) = Apply(c.Ops);
                string name = "prop-" + Interlocked.Increment(ref s_nameCounter).ToString(CultureInfo.InvariantCulture);
                builder.Share(name, force: false, dir.Options);
                try
                {
                    using SharedMap map = SharedMap.Open(name, dir.Options);
                    Assert.Equal(1, map.Version);
                    Assert.Equal(name, map.Name);
                    MapAssert.Matches(model, map, c.Probes, c.Ranges, c.Prefixes);

                    // The shared file is Dump() but for the publication stamp and the header checksum over it.
                    byte[] dump = builder.Dump();
                    byte[] file = File.ReadAllBytes(map.Path!);
                    Assert.Equal(dump.Length, file.Length);
                    Assert.True(dump.AsSpan(0, 96).SequenceEqual(file.AsSpan(0, 96)), "header bytes 0..96 differ from Dump()");
                    Assert.True(dump.AsSpan(112, 8).SequenceEqual(file.AsSpan(112, 8)), "body checksum differs from Dump()");
                    Assert.True(dump.AsSpan(128).SequenceEqual(file.AsSpan(128)), "body differs from Dump()");
                    Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(96)));
                }
                finally
                {
                    Assert.True(SharedMap.Delete(name, dir.Options));
                }
            },
            iter: Iterations(60),
            print: Describe,
            writeLine: output.WriteLine);
    }

    [Fact]
    public void Dump_SameEntriesAnyHistory_IdenticalBytes()
    {
        s_case.Sample(
            c =>
            {
                (SharedMapBuilder first, SortedDictionary<string, string> model) = Apply(c.Ops);
                (SharedMapBuilder again, _) = Apply(c.Ops);
                byte[] dump = first.Dump();
                Assert.Equal(dump, again.Dump());
                Assert.Equal(dump, first.Dump());

                // Only the final entries matter: inserting them once, in reverse order, gives the same bytes.
                var fresh = new SharedMapBuilder();
                foreach ((string key, string value) in model.Reverse())
                {
                    fresh.Set(key, value);
                }

                Assert.Equal(dump, fresh.Dump());

                using var stream = new MemoryStream();
                first.WriteTo(stream);
                Assert.Equal(dump, stream.ToArray());
            },
            iter: Iterations(200),
            print: Describe,
            writeLine: output.WriteLine);
    }

    [Fact]
    public void SetUtf8Spans_RandomOperations_SameAsStringSet()
    {
        s_case.Sample(
            c =>
            {
                (SharedMapBuilder builder, _) = Apply(c.Ops);
                var utf8Builder = new SharedMapBuilder();
                foreach (Op op in c.Ops)
                {
                    if (op.Remove)
                    {
                        utf8Builder.Remove(op.Key);
                    }
                    else
                    {
                        utf8Builder.Set(Encoding.UTF8.GetBytes(op.Key), Encoding.UTF8.GetBytes(op.Value));
                    }
                }

                Assert.Equal(builder.Dump(), utf8Builder.Dump());
            },
            iter: Iterations(100),
            print: Describe,
            writeLine: output.WriteLine);
    }

    /// <summary>The default iteration count, or CsCheck_Iter when set (for long opt-in runs).</summary>
    private static long Iterations(long normal) =>
        long.TryParse(Environment.GetEnvironmentVariable("CsCheck_Iter"), CultureInfo.InvariantCulture, out long configured) ? configured : normal;

    private static (SharedMapBuilder Builder, SortedDictionary<string, string> Model) Apply(Op[] ops)
    {
        var builder = new SharedMapBuilder();
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        foreach (Op op in ops)
        {
            if (op.Remove)
            {
                Assert.Equal(model.Remove(op.Key), builder.Remove(op.Key));
            }
            else
            {
                builder.Set(op.Key, op.Value);
                model[op.Key] = op.Value;
            }
        }

        return (builder, model);
    }

    private static string Describe(MapCase c)
    {
        var text = new StringBuilder();
        text.Append("ops: ");
        foreach (Op op in c.Ops)
        {
            text.Append(op.Remove ? "Remove(" : "Set(").Append(Escape(op.Key));
            if (!op.Remove)
            {
                text.Append(", ").Append(op.Value.Length > 40 ? $"<{op.Value.Length} chars of {Escape(op.Value[..2])}>" : Escape(op.Value));
            }

            text.Append("); ");
        }

        text.Append("\nprobes: ").AppendJoin(", ", c.Probes.Select(Escape));
        text.Append("\nranges: ").AppendJoin(", ", c.Ranges.Select(r => $"[{Escape(r.From)}, {Escape(r.To)})"));
        text.Append("\nprefixes: ").AppendJoin(", ", c.Prefixes.Select(Escape));
        return text.ToString();
    }

    private static string Escape(string? s)
    {
        if (s is null)
        {
            return "null";
        }

        var text = new StringBuilder("\"");
        foreach (char ch in s)
        {
            text.Append(ch is >= ' ' and < '\u007F' and not '"' and not '\\' ? ch.ToString() : $"\\u{(int)ch:X4}");
        }

        return text.Append('"').ToString();
    }

    public sealed record Op(bool Remove, string Key, string Value);

    public sealed record MapCase(Op[] Ops, string[] Probes, (string? From, string? To)[] Ranges, string[] Prefixes);
}
