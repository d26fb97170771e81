using System.IO.Hashing;
using CsCheck;
using Shmap.Format;

namespace Shmap.Tests.Unit;

/// <summary>The inlined XXH3 paths give exactly what System.IO.Hashing gives, for every length and any seed.</summary>
public class KeyHasherTests
{
    [Fact]
    public void Hash_EveryLengthUpTo300_EqualsXxHash3()
    {
        var random = new Random(7);
        foreach (ulong seed in new ulong[] { 0, 1, 0x9E3779B185EBCA87, ulong.MaxValue, 0x8000000000000000 })
        {
            var hasher = new KeyHasher(seed);
            for (int length = 0; length <= 300; length++)
            {
                byte[] key = new byte[length];
                for (int round = 0; round < 20; round++)
                {
                    random.NextBytes(key);
                    Assert.Equal(XxHash3.HashToUInt64(key, unchecked((long)seed)), hasher.Hash(key));
                }
            }
        }
    }

    [Fact]
    public void Hash_RandomKeysAndSeeds_EqualsXxHash3()
    {
        Gen.Select(Gen.Byte.Array[0, 64], Gen.ULong).Sample(
            (key, seed) => new KeyHasher(seed).Hash(key) == XxHash3.HashToUInt64(key, unchecked((long)seed)),
            iter: 20_000);
    }

    [Fact]
    public void Hash_KeyInsideALargerBuffer_ReadsOnlyTheKey()
    {
        // A key sliced out of a buffer whose neighbouring bytes change: the hash must not.
        byte[] buffer = new byte[96];
        var hasher = new KeyHasher(0);
        for (int length = 0; length <= 40; length++)
        {
            Array.Fill(buffer, (byte)0x11);
            ulong expected = hasher.Hash(buffer.AsSpan(32, length));
            Array.Fill(buffer, (byte)0xEE, 0, 32);
            Array.Fill(buffer, (byte)0xEE, 32 + length, buffer.Length - 32 - length);
            Assert.Equal(expected, hasher.Hash(buffer.AsSpan(32, length)));
            Assert.Equal(XxHash3.HashToUInt64(buffer.AsSpan(32, length)), expected);
        }
    }
}
