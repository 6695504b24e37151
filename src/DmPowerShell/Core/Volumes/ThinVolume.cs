namespace DmPowerShell.Volumes;

/// <summary>A thin volume or snapshot: its record joined with its live state.</summary>
public sealed record ThinVolume
{
    public required string Name { get; init; }
    public required string Pool { get; init; }
    public uint ThinId { get; init; }
    /// <summary>Virtual size in bytes.</summary>
    public long Size { get; init; }
    /// <summary>The origin's current name; "(removed)" when it was removed; null for a base volume.</summary>
    public string? Origin { get; init; }
    public uint? OriginId { get; init; }
    /// <summary>Parent first, base last; removed ancestors read "(removed)".</summary>
    public IReadOnlyList<string> Chain { get; init; } = Array.Empty<string>();
    public bool IsSnapshot => OriginId is not null;
    public bool Active { get; init; }
    public bool ReadOnly { get; init; }
    public required string DeviceName { get; init; }
    public required string DevicePath { get; init; }
    /// <summary>major:minor while active.</summary>
    public string? Device { get; init; }
    /// <summary>Bytes the pool has mapped for this volume; null when unknown (inactive, unless read with -Usage).</summary>
    public long? MappedBytes { get; init; }
    /// <summary>Mapped bytes no other thin device shares: what removing this volume frees. Read with Get-ThinVolume -Usage; null otherwise.</summary>
    public long? ExclusiveBytes { get; init; }
    /// <summary>Mapped bytes shared with another thin device (its origin, a snapshot). Read with Get-ThinVolume -Usage; null otherwise.</summary>
    public long? SharedBytes { get; init; }
    /// <summary>Mapped share of the virtual size; null when unknown, never a made-up 0.</summary>
    public double? UsedPercent { get; init; }
    public string? FileSystem { get; init; }
    /// <summary>Removed with -Deferred while busy: deleted once its device closes.</summary>
    public bool PendingDeletion { get; init; }
    public DateTimeOffset Created { get; init; }
    public required string Uuid { get; init; }
    public required string StateRoot { get; init; }

    public override string ToString() => Name;
}
