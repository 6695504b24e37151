using DmPowerShell.Kernel;
using DmPowerShell.Registry;

namespace DmPowerShell.Pools;

/// <summary>A pool the module manages: its record joined with its live state.</summary>
public sealed record ThinPool
{
    public required string Name { get; init; }
    public required string Id { get; init; }
    public PoolBacking Backing { get; init; }
    public bool Active { get; init; }
    public required string DeviceName { get; init; }
    public required string DevicePath { get; init; }
    /// <summary>major:minor of the pool device when active.</summary>
    public string? Device { get; init; }
    /// <summary>Loop mode: the backing files. Direct mode: the block devices.</summary>
    public required string DataPath { get; init; }
    public required string MetadataPath { get; init; }
    /// <summary>The block devices under the pool when active (/dev/loopN in loop mode).</summary>
    public string? DataDevice { get; init; }
    public string? MetadataDevice { get; init; }
    public long DataSize { get; init; }
    public long MetadataSize { get; init; }
    public long BlockSize { get; init; }
    public ulong LowWaterMarkBlocks { get; init; }
    public bool SkipBlockZeroing { get; init; }
    public DiscardMode DiscardMode { get; init; }
    public NoSpacePolicy NoSpacePolicy { get; init; }
    public int MinimumFreeSpacePercent { get; init; }
    /// <summary>The container runtime the pool is handed to (Set-ThinPool -HandedTo), or None.</summary>
    public Registry.PoolRuntime HandedTo { get; init; }
    /// <summary>LVM mode: the volume group of the pool LV.</summary>
    public string? VolumeGroup { get; init; }
    /// <summary>LVM mode: LVM's seg_monitor ("monitored" when dmeventd watches the pool, "not monitored", or "not enabled" when lvm.conf turns monitoring off).</summary>
    public string? LvmMonitoring { get; init; }
    public Registry.AutoextendPolicy DataAutoextend { get; init; } = Registry.AutoextendPolicy.Off;
    public Registry.AutoextendPolicy MetadataAutoextend { get; init; } = Registry.AutoextendPolicy.Off;
    public DateTimeOffset Created { get; init; }
    public required string StateRoot { get; init; }

    public override string ToString() => Name;
}
