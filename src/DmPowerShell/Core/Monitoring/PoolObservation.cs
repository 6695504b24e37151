using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Monitoring;

/// <summary>A pool's state as one check of the watcher saw it.</summary>
public sealed record PoolObservation
{
    public PoolMode Mode { get; init; }
    public bool NeedsCheck { get; init; }
    public ulong UsedDataBlocks { get; init; }
    public ulong TotalDataBlocks { get; init; }
    public long BlockSize { get; init; }
    public ulong UsedMetadataBlocks { get; init; }
    public ulong TotalMetadataBlocks { get; init; }

    public long DataSize => (long)TotalDataBlocks * BlockSize;
    public long MetadataSize => (long)TotalMetadataBlocks * PoolSpec.MetadataBlockSize;
    public double DataUsedPercent => TotalDataBlocks == 0 ? 0 : Math.Round(100.0 * UsedDataBlocks / TotalDataBlocks, 2);
    public double MetadataUsedPercent => TotalMetadataBlocks == 0 ? 0 : Math.Round(100.0 * UsedMetadataBlocks / TotalMetadataBlocks, 2);

    public static PoolObservation From(ThinPoolStatus status, long blockSize) => new()
    {
        Mode = status.Mode,
        NeedsCheck = status.NeedsCheck == true,
        UsedDataBlocks = status.UsedDataBlocks,
        TotalDataBlocks = status.TotalDataBlocks,
        BlockSize = blockSize,
        UsedMetadataBlocks = status.UsedMetadataBlocks,
        TotalMetadataBlocks = status.TotalMetadataBlocks,
    };
}
