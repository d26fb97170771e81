namespace Shmap;

/// <summary>
/// Locates one value inside a <see cref="SharedMap"/> without copying it: returned by the UTF-8
/// <see cref="SharedMap.GetMany(ReadOnlySpan{ReadOnlyMemory{byte}}, Span{ValueRef})"/>, turned
/// into bytes with <see cref="SharedMap.GetValue(ValueRef)"/>. Valid only with the map that returned it.
/// </summary>
/// <param name="Offset">Byte offset of the value in the snapshot; 0 when the key was absent.</param>
/// <param name="Length">Length of the value in bytes.</param>
public readonly record struct ValueRef(long Offset, int Length)
{
    /// <summary>Whether the key was found.</summary>
    public bool Found => Offset != 0;
}
