using System.Runtime.CompilerServices;
using Shmap.Format;

namespace Shmap.Reading;

/// <summary>
/// Looks a batch of keys up, overlapping their memory misses. Each segment takes three tight
/// passes: the hashes; each key's first candidate, with the home slot window of the key
/// <see cref="Constants.BatchPrefetchDistance"/> ahead prefetched; the comparisons, with that
/// key's candidate record prefetched. Each prefetch covers both lines the read may touch (the
/// 8-slot window; the record up to the end of the key): the second line of either, left to a
/// demand miss, cost a fifth of a hit. Short loop bodies let the CPU keep many misses in flight
/// (one pass per phase measured ~25% faster than phases over chunks of 32 keys).
/// </summary>
internal static class BatchLookup
{
    /// <summary><paramref name="values"/>[i] receives the value of keys[i], or default.</summary>
    public static void FindMany(SnapshotReader reader, ReadOnlySpan<ReadOnlyMemory<byte>> keys, Span<ValueRef> values)
    {
        if (values.Length < keys.Length)
        {
            throw new ArgumentException("One value per key is needed.", nameof(values));
        }

        const int Ahead = Constants.BatchPrefetchDistance;
        Span<ulong> hashes = stackalloc ulong[Constants.BatchChunk];
        Span<ulong> candidates = stackalloc ulong[Constants.BatchChunk];
        for (int start = 0; start < keys.Length; start += Constants.BatchChunk)
        {
            int n = Math.Min(Constants.BatchChunk, keys.Length - start);
            ReadOnlySpan<ReadOnlyMemory<byte>> segment = keys.Slice(start, n);
            Span<ValueRef> found = values.Slice(start, n);
            for (int i = 0; i < n; i++)
            {
                hashes[i] = reader.HashOf(segment[i].Span);
            }

            for (int i = 0; i < Math.Min(Ahead, n); i++)
            {
                reader.PrefetchHome(hashes[i]);
            }

            for (int i = 0; i < n; i++)
            {
                if (i + Ahead < n)
                {
                    reader.PrefetchHome(hashes[i + Ahead]);
                }

                candidates[i] = reader.FirstCandidate(hashes[i]);
            }

            for (int i = 0; i < Math.Min(Ahead, n); i++)
            {
                reader.PrefetchCandidate(candidates[i], segment[i].Length);
            }

            for (int i = 0; i < n; i++)
            {
                if (i + Ahead < n)
                {
                    reader.PrefetchCandidate(candidates[i + Ahead], segment[i + Ahead].Length);
                }

                ulong candidate = candidates[i];
                found[i] = candidate == 0 ? default : Resolve(reader, candidate, segment[i].Span, hashes[i]);
            }
        }

        // Resolve compares spans into the snapshot after the reader's last call.
        GC.KeepAlive(reader);
    }

    /// <summary>The value of <paramref name="key"/> when the record at <paramref name="candidate"/> holds it; else the full path decides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ValueRef Resolve(SnapshotReader reader, ulong candidate, ReadOnlySpan<byte> key, ulong hash)
    {
        if (candidate != SnapshotReader.UnknownCandidate)
        {
            ulong end = reader.ReadRecord(candidate, out ReadOnlySpan<byte> candidateKey, out ReadOnlySpan<byte> value);
            if (KeyBytes.Equal(candidateKey, key))
            {
                return new ValueRef((long)end - value.Length, value.Length);
            }
        }

        // Another key with the same tag first in the window (1 in 2^32 per neighbour), or a run
        // longer than the window: the full path.
        ulong offset = reader.FindRecord(key, hash, out _);
        return offset == 0 ? default : reader.ValueRefOf(offset);
    }
}
