using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Shmap.Format;

/// <summary>Strict UTF-8 conversions: keys and values must round-trip, so lone surrogates and invalid bytes are refused.</summary>
internal static class Utf8Text
{
    public static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes <paramref name="text"/>; throws <see cref="ArgumentException"/> naming <paramref name="paramName"/> when it does not round-trip.</summary>
    public static byte[] Encode(string text, string paramName)
    {
        ArgumentNullException.ThrowIfNull(text, paramName);
        try
        {
            return Strict.GetBytes(text);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"The string has an unpaired surrogate at index {e.Index} and cannot be stored as UTF-8; fix the string or store its bytes with the span overload.", paramName, e);
        }
    }

    /// <summary>Encodes a lookup key; false when it has a lone surrogate (such a key is never stored).</summary>
    public static bool TryEncode(ReadOnlySpan<char> text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? utf8)
    {
        try
        {
            utf8 = new byte[Strict.GetByteCount(text)];
            Strict.GetBytes(text, utf8);
            return true;
        }
        catch (EncoderFallbackException)
        {
            utf8 = null;
            return false;
        }
    }

    /// <summary>Copies <paramref name="utf8"/>; throws when it is not valid UTF-8.</summary>
    public static byte[] Validate(ReadOnlySpan<byte> utf8, string paramName)
    {
        if (!Utf8.IsValid(utf8))
        {
            int at = 0;
            // OperationStatus.InvalidData stops at the first bad byte: report where.
            Span<char> scratch = stackalloc char[256];
            ReadOnlySpan<byte> rest = utf8;
            while (Utf8.ToUtf16(rest, scratch, out int read, out _, replaceInvalidSequences: false) == OperationStatus.DestinationTooSmall)
            {
                rest = rest[read..];
                at += read;
            }

            Utf8.ToUtf16(rest, scratch, out int lastRead, out _, replaceInvalidSequences: false);
            throw new ArgumentException($"The bytes are not valid UTF-8 (first invalid byte at offset {at + lastRead}); keys and values are UTF-8 text.", paramName);
        }

        return utf8.ToArray();
    }

    /// <summary>
    /// Encodes a lookup key into <paramref name="buffer"/> (or a rented array). Returns false when
    /// the string has a lone surrogate: such a key can never be in a snapshot.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool TryEncodeKey(ReadOnlySpan<char> key, Span<byte> buffer, out ReadOnlySpan<byte> utf8, out byte[]? rented)
    {
        rented = null;
        int ascii = ShortAscii.TryEncode(key, buffer);
        if (ascii >= 0)
        {
            utf8 = buffer[..ascii];
            return true;
        }

        return TryEncodeKeySlow(key, buffer, out utf8, out rented);
    }

    private static bool TryEncodeKeySlow(ReadOnlySpan<char> key, Span<byte> buffer, out ReadOnlySpan<byte> utf8, out byte[]? rented)
    {
        rented = null;
        if (key.Length * 3 > buffer.Length)
        {
            rented = ArrayPool<byte>.Shared.Rent(key.Length * 3);
            buffer = rented;
        }

        if (Utf8.FromUtf16(key, buffer, out _, out int written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            utf8 = default;
            return false;
        }

        utf8 = buffer[..written];
        return true;
    }

    /// <summary>Decodes bytes read from a snapshot; bytes that are not UTF-8 become U+FFFD (the snapshot's own bytes are never trusted).</summary>
    public static string Decode(ReadOnlySpan<byte> utf8) => ShortAscii.TryDecode(utf8, out string? text) ? text : Encoding.UTF8.GetString(utf8);

    /// <summary>
    /// Decodes a value into <paramref name="destination"/> exactly as <see cref="Decode"/> would
    /// (bytes that are not UTF-8 become U+FFFD); returns the chars written, or -1 when they do not fit.
    /// </summary>
    public static int DecodeInto(ReadOnlySpan<byte> utf8, Span<char> destination) =>
        Utf8.ToUtf16(utf8, destination, out _, out int written, replaceInvalidSequences: true) == OperationStatus.Done ? written : -1;

    /// <summary>Ordinal byte order of UTF-8, the order of every snapshot.</summary>
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);
}
