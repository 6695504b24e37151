using DmPowerShell.Kernel;

namespace DmPowerShell.Pools;

/// <summary>
/// Everything `docker info` shows for a devicemapper pool, every field of the kernel's
/// thin-pool status line, and figures derived from them. Sizes are bytes.
/// </summary>
public sealed record PoolStatus
{
    // What `docker info` shows.
    public required string PoolName { get; init; }
    public long PoolBlocksize { get; init; }
    public long? BaseDeviceSize { get; init; }
    public string? BackingFilesystem { get; init; }
    /// <summary>The block device under the pool's data (docker's "Data file": /dev/loop0).</summary>
    public string? DataFile { get; init; }
    public string? MetadataFile { get; init; }
    /// <summary>Loop mode: the sparse file behind the data device (docker's "Data loop file").</summary>
    public string? DataLoopFile { get; init; }
    public string? MetadataLoopFile { get; init; }
    public long DataSpaceUsed { get; init; }
    public long DataSpaceTotal { get; init; }
    public long DataSpaceAvailable { get; init; }
    public long MetadataSpaceUsed { get; init; }
    public long MetadataSpaceTotal { get; init; }
    public long MetadataSpaceAvailable { get; init; }
    public long MinFreeSpace { get; init; }
    public bool UdevSyncSupported { get; init; }
    public bool DeferredRemovalEnabled { get; init; }
    public bool DeferredDeletionEnabled { get; init; }
    public int DeferredDeletedDeviceCount { get; init; }
    public required string LibraryVersion { get; init; }
    /// <summary>thin-provisioning-tools' version (0.9.x or 1.x), or null when they are not installed.</summary>
    public string? ThinToolsVersion { get; init; }

    // The kernel's status line.
    public TargetHealth Health { get; init; }
    public ulong TransactionId { get; init; }
    public ulong? HeldMetadataRoot { get; init; }
    public PoolMode? Mode { get; init; }
    public DiscardMode? DiscardMode { get; init; }
    public NoSpacePolicy? NoSpacePolicy { get; init; }
    public bool? NeedsCheck { get; init; }
    public ulong? MetadataLowWatermark { get; init; }
    public ulong UsedDataBlocks { get; init; }
    public ulong TotalDataBlocks { get; init; }
    public ulong UsedMetadataBlocks { get; init; }
    public ulong TotalMetadataBlocks { get; init; }
    public string RawStatus { get; init; } = "";

    // Derived.
    public double DataUsedPercent { get; init; }
    public double MetadataUsedPercent { get; init; }
    public int ThinVolumeCount { get; init; }
    public long ProvisionedSize { get; init; }
    public double OverProvisioningRatio { get; init; }
    /// <summary>True when the data file's file system holds less than the pool's free blocks.</summary>
    public bool BackingFilesystemLimited { get; init; }

    // Monitoring.
    /// <summary>A Watch-ThinPool holds this pool's watch lock on this host.</summary>
    public bool Watched { get; init; }
    /// <summary>The watching process, its command line and since when.</summary>
    public string? WatchedBy { get; init; }
    /// <summary>The module's pools: data or metadata autoextend is on (it acts only while Watched).</summary>
    public bool AutoextendEnabled { get; init; }

    /// <summary>
    /// The container runtime that drives the pool's thin ids: recorded by Set-ThinPool -HandedTo,
    /// or seen by its devices active on the pool (Docker's docker-*, containerd's &lt;pool&gt;-snap-*).
    /// </summary>
    public Registry.PoolRuntime HandedTo { get; init; }

    // Identity.
    public required string DeviceName { get; init; }
    public string? Device { get; init; }
    public string? Uuid { get; init; }
    public PoolManager Manager { get; init; }
    /// <summary>The module's pool name when it manages the pool.</summary>
    public string? Name { get; init; }
    public string DriverVersion { get; init; } = "";

    public override string ToString() => PoolName;
}
