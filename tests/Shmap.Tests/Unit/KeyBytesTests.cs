using Shmap.Format;

namespace Shmap.Tests.Unit;

public class KeyBytesTests
{
    /// <summary>Every length to 70, equal and with one byte changed at each position, inside larger buffers whose other bytes differ.</summary>
    [Fact]
    public void Equal_EveryLengthAndEveryDifferingPosition_AgreesWithSequenceEqual()
    {
        var random = new Random(11);
        byte[] left = new byte[100];
        byte[] right = new byte[100];
        for (int length = 0; length <= 70; length++)
        {
            random.NextBytes(left);
            random.NextBytes(right);
            left.AsSpan(10, length).CopyTo(right.AsSpan(20, length));
            ReadOnlySpan<byte> a = left.AsSpan(10, length);
            Assert.True(KeyBytes.Equal(a, right.AsSpan(20, length)), $"length {length}");
            Assert.False(KeyBytes.Equal(a, right.AsSpan(20, length + 1)), $"length {length} vs {length + 1}");
            for (int position = 0; position < length; position++)
            {
                right[20 + position] ^= (byte)(1 << (position % 8));
                Assert.False(KeyBytes.Equal(a, right.AsSpan(20, length)), $"length {length}, byte {position} differs");
                right[20 + position] ^= (byte)(1 << (position % 8));
            }
        }
    }
}
