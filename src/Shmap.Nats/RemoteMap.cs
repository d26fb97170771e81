namespace Shmap.Nats;

/// <summary>One map name as the bucket holds it: the newest version's metadata (what a receiver knows before it downloads).</summary>
/// <param name="Name">The map name (the object's name).</param>
/// <param name="FleetVersion">
/// The fleet version: the JetStream sequence of the object's metadata record, assigned by the
/// stream's leader when the object was completely stored. It rises with every push of any name in
/// the bucket, so it is monotonic per name (with gaps).
/// </param>
/// <param name="Deleted">The name was removed from the bucket.</param>
/// <param name="FormatVersion">Snapshot format version of the bytes.</param>
/// <param name="Entries">Number of entries.</param>
/// <param name="Bytes">Snapshot length in bytes.</param>
/// <param name="Checksum">The snapshot's body checksum (XXH3-64, 16 hex digits), as its header states it.</param>
/// <param name="Digest">The Object Store's SHA-256 digest of the object's bytes (<c>SHA-256=…</c>).</param>
/// <param name="Nuid">The object's chunk id in the stream.</param>
/// <param name="Chunks">Number of chunks.</param>
/// <param name="StoredAt">When the metadata record was stored (server clock): the moment receivers could see the version.</param>
/// <param name="PushedAt">When the push started (pusher's clock), or null.</param>
/// <param name="Source">Where the pusher took the snapshot from, for people.</param>
/// <param name="Problem">Why a sync agent would not take this object, or null.</param>
public sealed record RemoteMap(
    string Name,
    long FleetVersion,
    bool Deleted,
    int FormatVersion,
    long Entries,
    long Bytes,
    string? Checksum,
    string? Digest,
    string? Nuid,
    int Chunks,
    DateTimeOffset StoredAt,
    DateTimeOffset? PushedAt,
    string? Source,
    string? Problem);
