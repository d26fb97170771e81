namespace Shmap;

/// <summary>
/// One name published in a directory, as <see cref="SharedMap.List"/> found it: its files and, when
/// its snapshot could be opened, what the header says.
/// </summary>
/// <param name="Name">The shared name.</param>
/// <param name="SnapshotPath">The snapshot file (<c>N.shmap</c>).</param>
/// <param name="ControlPath">The name's control file (<c>N.lock</c>: publishers' lock and version word).</param>
/// <param name="Version">Version of the snapshot published; 0 when it could not be read.</param>
/// <param name="Count">Number of entries; 0 when it could not be read.</param>
/// <param name="ByteLength">Size of the snapshot file in bytes.</param>
/// <param name="PublishedAt">When the snapshot was published, or null (not published by a publisher, or unreadable).</param>
/// <param name="LastModified">When the snapshot file was last written.</param>
/// <param name="Problem">Why the snapshot could not be opened, or null when it was.</param>
public sealed record SharedMapInfo(
    string Name,
    string SnapshotPath,
    string ControlPath,
    long Version,
    int Count,
    long ByteLength,
    DateTimeOffset? PublishedAt,
    DateTimeOffset LastModified,
    string? Problem);
