using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;

namespace DmPowerShell.Health;

/// <summary>The three views of one pool, gathered at one moment.</summary>
public sealed record PoolViews
{
    public required PoolRecord Pool { get; init; }
    public required IReadOnlyList<VolumeRecord> Records { get; init; }
    public IReadOnlyList<uint> PendingDeletions { get; init; } = Array.Empty<uint>();
    public PoolJournal? Journal { get; init; }
    /// <summary>The registry's summary of the records, when one is written and no journal makes it doubtful.</summary>
    public VolumeSummary? Summary { get; init; }
    public bool Active { get; init; }
    public IReadOnlyList<LiveThinDevice> LiveDevices { get; init; } = Array.Empty<LiveThinDevice>();
    public ThinPoolStatus? Status { get; init; }
    public PoolMetadata? Metadata { get; init; }
    /// <summary>The volumes an interrupted metadata repair took offline, when one was interrupted.</summary>
    public IReadOnlyList<string>? InterruptedRepair { get; init; }
    /// <summary>The needs_check flag in the superblock of an inactive pool's metadata.</summary>
    public bool NeedsCheckAtRest { get; init; }
    /// <summary>thin_check's complaint, when it was run (inactive pools) and failed.</summary>
    public string? MetadataCheckFailure { get; init; }
}
