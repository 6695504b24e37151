using DmPowerShell.Kernel;

namespace DmPowerShell.Registry;

/// <summary>
/// What the module remembers of a thin volume or snapshot: one JSON document per device,
/// named by its thin id, as docker's driver kept them. The pool stores none of this.
/// </summary>
public sealed record VolumeRecord
{
    public int Schema { get; init; } = 1;
    public required string Name { get; init; }
    public ThinId ThinId { get; init; }
    /// <summary>Virtual size in bytes.</summary>
    public long Size { get; init; }
    /// <summary>The thin id this snapshot was taken of; null for a base volume.</summary>
    public ThinId? OriginId { get; init; }
    /// <summary>Parent first, base last, with the names they had then.</summary>
    public IReadOnlyList<Ancestor> Lineage { get; init; } = Array.Empty<Ancestor>();
    /// <summary>Whether the volume should be active: what Enable-ThinPool restores after a reboot.</summary>
    public bool Active { get; init; }
    public bool ReadOnly { get; init; }
    public string? FileSystem { get; init; }
    /// <summary>
    /// Recorded with the new volume, cleared once mkfs finished: a volume still marked after a
    /// crash or power cut gets its file system when the pool's volumes next come up.
    /// </summary>
    public bool Formatting { get; init; }
    public DateTimeOffset Created { get; init; }
    /// <summary>The identity of the snapshot this volume was imported from (Import-ThinVolume): what an incremental stream's base must match.</summary>
    public string? ReceivedFrom { get; init; }

    /// <summary>This volume as a snapshot identity in streams: its pool, thin id and creation time.</summary>
    public string IdentityIn(PoolRecord pool) => $"{pool.Id}/{ThinId}/{Created.UtcTicks}";
}
