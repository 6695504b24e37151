using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Monitoring;

/// <summary>
/// What the watcher may do for one pool. <see cref="Extends"/> is false for pools the module
/// does not own (LVM grows its own). The limits are where the backing storage ends (a block
/// device's size), beside each policy's own maximum.
/// </summary>
public sealed record WatchPolicy
{
    public AutoextendPolicy Data { get; init; } = AutoextendPolicy.Off;
    public AutoextendPolicy Metadata { get; init; } = AutoextendPolicy.Off;
    public bool Extends { get; init; }
    public long DataLimit { get; init; } = long.MaxValue;
    public long MetadataLimit { get; init; } = PoolSpec.MaxMetadataSize;
    /// <summary>Why the watcher does not extend this pool, for the messages.</summary>
    public string? ReportOnlyReason { get; init; }
}
