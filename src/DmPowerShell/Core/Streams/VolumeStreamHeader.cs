namespace DmPowerShell.Streams;

/// <summary>
/// What a volume stream says about itself (about_DmPowerShell_Streams): written once, as JSON,
/// after the magic; the trailer's hash covers it, so a changed header is refused like a changed extent.
/// </summary>
public sealed record VolumeStreamHeader
{
    public const string Full = "full";
    public const string Incremental = "incremental";

    public int Format { get; init; } = 1;

    /// <summary><see cref="Full"/> (every mapped range) or <see cref="Incremental"/> (the ranges changed since <see cref="BaseIdentity"/>).</summary>
    public required string Kind { get; init; }

    public required string SourcePool { get; init; }
    public required string SourcePoolId { get; init; }
    public required string Volume { get; init; }
    public uint ThinId { get; init; }

    /// <summary>The exported volume as a snapshot identity: source pool id, thin id and creation time. A receiver records it.</summary>
    public required string Identity { get; init; }

    /// <summary>Of an incremental stream: the identity the receiving snapshot must carry (what it received before).</summary>
    public string? BaseIdentity { get; init; }

    /// <summary>Of an incremental stream: the base's name on the sending side, for messages.</summary>
    public string? BaseName { get; init; }

    /// <summary>The volume's size in bytes.</summary>
    public long Size { get; init; }

    /// <summary>The sending pool's data block size: extents are whole blocks of it.</summary>
    public long BlockSize { get; init; }

    public string? FileSystem { get; init; }

    public DateTimeOffset Exported { get; init; }
}
