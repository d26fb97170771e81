namespace Shmap.Cli.Input;

/// <summary>A reusable growable byte buffer for decoding one field at a time.</summary>
internal sealed class ByteBuilder
{
    private byte[] _bytes = new byte[256];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _bytes.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public void Append(byte value)
    {
        if (Length == _bytes.Length)
        {
            Array.Resize(ref _bytes, _bytes.Length * 2);
        }

        _bytes[Length++] = value;
    }

    public void Append(ReadOnlySpan<byte> values)
    {
        Span<byte> destination = GetSpan(values.Length);
        values.CopyTo(destination);
        Length += values.Length;
    }

    /// <summary>Room for at least <paramref name="size"/> more bytes; <see cref="Advance"/> commits what was written.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (_bytes.Length - Length < size)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, checked(Length + size)));
        }

        return _bytes.AsSpan(Length);
    }

    public void Advance(int count) => Length += count;
}
