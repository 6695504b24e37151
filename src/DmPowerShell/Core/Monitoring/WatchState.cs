using DmPowerShell.Kernel;

namespace DmPowerShell.Monitoring;

/// <summary>What the watcher remembers of a pool between checks, so that each crossing is reported once.</summary>
public sealed class WatchState
{
    public PoolMode? Mode { get; set; }
    public bool NeedsCheck { get; set; }
    public bool DataAbove { get; set; }
    public bool MetadataAbove { get; set; }
    public bool DataLimitReported { get; set; }
    public bool MetadataLimitReported { get; set; }
    public bool Inactive { get; set; }
}
