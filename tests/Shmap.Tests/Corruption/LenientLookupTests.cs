using System.Text;
using Shmap.Format;
using Shmap.Reading;

namespace Shmap.Tests.Corruption;

/// <summary>
/// The lookup a follower's calls use (<see cref="SnapshotReader.TryFind"/>) never throws for the
/// bytes it reads: over every body byte flipped and resealed, it reports
/// <see cref="SnapshotReader.Unreadable"/> exactly where the strict lookup throws, and otherwise
/// answers what the strict lookup answers.
/// </summary>
public class LenientLookupTests
{
    private static readonly byte[] s_masks = [0x01, 0x80, 0xFF];

    [Fact]
    public void TryFind_EveryBodyByteFlipped_UnreadableExactlyWhereTheStrictLookupThrows()
    {
        byte[][] keys = [.. SnapshotCorruptionTests.Keys.Concat(["absent", "k99", "\u00E9"]).Select(static k => Encoding.UTF8.GetBytes(k))];
        int unreadable = 0;
        for (int position = SnapshotLayout.HeaderSize; position < SnapshotCorruptionTests.Snapshot.Length; position++)
        {
            foreach (byte mask in s_masks)
            {
                byte[] damaged = (byte[])SnapshotCorruptionTests.Snapshot.Clone();
                damaged[position] ^= mask;
                ApiSweep.Reseal(damaged, body: true);
                using SharedMap map = SharedMap.Load(damaged);
                SnapshotReader reader = map.DangerousReader;
                foreach (byte[] key in keys)
                {
                    string context = $"byte {position} ^ 0x{mask:X2}, key '{Encoding.UTF8.GetString(key)}'";
                    ulong offset = reader.TryFind(key, out ReadOnlySpan<byte> lenientValue);
                    byte[] lenient = lenientValue.ToArray();
                    bool found;
                    byte[] strict;
                    try
                    {
                        found = reader.TryGetValue(key, out ReadOnlySpan<byte> value);
                        strict = value.ToArray();
                    }
                    catch (SnapshotFormatException)
                    {
                        Assert.True(offset == SnapshotReader.Unreadable, $"{context}: the strict lookup threw, TryFind gave {offset}");
                        unreadable++;
                        continue;
                    }

                    Assert.True(offset != SnapshotReader.Unreadable, $"{context}: TryFind gave Unreadable, the strict lookup answered");
                    Assert.Equal(found, offset != 0);
                    Assert.Equal(strict, lenient);

                    // The string path a follower uses agrees too, and so does SharedMap.Get.
                    string text = Encoding.UTF8.GetString(key);
                    Assert.Equal(map.Get(text), StringLookup.Find(reader, text, out bool stringUnreadable));
                    Assert.False(stringUnreadable, context);
                }
            }
        }

        Assert.True(unreadable > 0, "no flip made a record unreadable: the sweep did not reach the lenient paths");
    }
}
