namespace DmPowerShell.Registry;

/// <summary>One ancestor of a snapshot as it was when the snapshot was taken.</summary>
public sealed record Ancestor(uint ThinId, string Name);

/// <summary>
/// What the module remembers of a thin volume or snapshot: one JSON document per device,
/// named by its thin id, as docker's driver kept them. The pool stores none of this.
/// </summary>
public sealed record VolumeRecord
{
    public int Schema { get; init; } = 1;
    public required string Name { get; init; }
    public uint ThinId { get; init; }
    /// <summary>Virtual size in bytes.</summary>
    public long Size { get; init; }
    /// <summary>The thin id this snapshot was taken of; null for a base volume.</summary>
    public uint? OriginId { get; init; }
    /// <summary>Parent first, base last, with the names they had then.</summary>
    public IReadOnlyList<Ancestor> Lineage { get; init; } = Array.Empty<Ancestor>();
    /// <summary>Whether the volume should be active: what Enable-ThinPool restores after a reboot.</summary>
    public bool Active { get; init; }
    public bool ReadOnly { get; init; }
    public string? FileSystem { get; init; }
    public DateTimeOffset Created { get; init; }
}

/// <summary>An unfinished change to a pool, written before the kernel is touched.</summary>
/// <remarks>
/// The pool's transaction id says how far the change got: equal to <see cref="FromTransaction"/>,
/// the kernel did not commit it and it is rolled back; one more, it is rolled forward.
/// </remarks>
public sealed record PoolJournal
{
    public const string Create = "create";
    public const string Delete = "delete";

    /// <summary><see cref="Create"/> (volumes and snapshots) or <see cref="Delete"/>.</summary>
    public required string Operation { get; init; }
    public ulong FromTransaction { get; init; }
    /// <summary>The volumes the change creates or deletes.</summary>
    public IReadOnlyList<VolumeRecord> Records { get; init; } = Array.Empty<VolumeRecord>();
    /// <summary>The dm device of an active origin that the change suspends.</summary>
    public string? SuspendedDevice { get; init; }
    public DateTimeOffset Started { get; init; }
    public int ProcessId { get; init; }
}
