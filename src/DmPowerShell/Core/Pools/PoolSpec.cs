using DmPowerShell.Kernel;
using DmPowerShell.Units;

namespace DmPowerShell.Pools;

/// <summary>What the user asked New-ThinPool for. Defaults are docker's.</summary>
public sealed record PoolSpec
{
    public const long DefaultDataSize = 100 * ByteSize.GiB;
    public const long DefaultMetadataSize = 2 * ByteSize.GiB;
    public const long DefaultBlockSize = 64 * ByteSize.KiB;
    public const long MinMetadataSize = 2 * ByteSize.MiB;
    /// <summary>The kernel's THIN_METADATA_MAX_SECTORS: 255 * (1 &lt;&lt; 14) * 8 sectors, about 15.94 GiB.</summary>
    public const long MaxMetadataSectors = 33_423_360;
    public const long MaxMetadataSize = MaxMetadataSectors * Sectors.Size;
    public const long MetadataBlockSize = 4096;

    public required string Name { get; init; }
    public long? DataSize { get; init; }
    public long? MetadataSize { get; init; }
    public long BlockSize { get; init; } = DefaultBlockSize;
    public ulong? LowWaterMarkBlocks { get; init; }
    public bool SkipBlockZeroing { get; init; }
    public DiscardMode DiscardMode { get; init; } = DiscardMode.Passdown;
    public NoSpacePolicy NoSpacePolicy { get; init; } = NoSpacePolicy.Queue;
    public int MinimumFreeSpacePercent { get; init; } = 10;
    /// <summary>Direct mode: the block devices. Both or neither.</summary>
    public string? DataDevice { get; init; }
    public string? MetadataDevice { get; init; }
    /// <summary>Direct mode: use devices that carry a signature (never mounted or busy ones).</summary>
    public bool Force { get; init; }

    /// <summary>LVM mode: the volume group (made when missing) and the devices that become its PVs.</summary>
    public string? VolumeGroup { get; init; }
    public IReadOnlyList<string> PhysicalDevices { get; init; } = Array.Empty<string>();
    /// <summary>Autoextend from the start (Set-ThinPool changes it later); LVM mode writes it as the pool's profile.</summary>
    public int? AutoextendThreshold { get; init; }
    public int? AutoextendPercent { get; init; }
}
