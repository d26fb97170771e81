using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Shmap.Format;

namespace Shmap.Reading;

/// <summary>
/// The reader's throws, out of line: the lookups inline their callers into every loop, so the
/// message is formatted here, not at the call site.
/// </summary>
internal static class ThrowHelper
{
    /// <summary>A field of the snapshot does not check out.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Format(string field, long offset, string expected, string found) => throw new SnapshotFormatException(field, offset, expected, found);

    /// <summary>The record at <paramref name="offset"/> does not fit.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Record(ulong offset, string expected) => throw new SnapshotFormatException("record", (long)offset, expected, "bytes that do not fit");

    /// <summary>The record at <paramref name="offset"/> runs past the data.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RecordTooLong(ulong offset, ulong length, ulong left) => Record(offset, $"a record of {length} bytes within the {left} bytes left");

    /// <summary>The lengths of the record at <paramref name="offset"/> are not readable.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RecordLengths(ulong offset, RecordCodec.LengthError error) => Record(
        offset,
        error == RecordCodec.LengthError.NotMinimal ? "a minimal LEB128 length of at most 2^31-1" : "a LEB128 length of at most 5 bytes inside the data section");
}
