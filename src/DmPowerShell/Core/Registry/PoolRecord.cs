using System.Text.Json.Serialization;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Units;

namespace DmPowerShell.Registry;

/// <summary>What the module remembers of a pool: the kernel keeps none of it.</summary>
public sealed record PoolRecord
{
    public const int CurrentSchema = 1;

    public int Schema { get; init; } = CurrentSchema;
    public required string Name { get; init; }
    /// <summary>The pool's identity in DM UUIDs; never its name, which can change.</summary>
    public required string Id { get; init; }
    public RecordState State { get; init; }
    public PoolBacking Backing { get; init; }
    /// <summary>Loop mode: the backing files. Direct mode: the block devices.</summary>
    public required string DataPath { get; init; }
    public required string MetadataPath { get; init; }
    public long DataSize { get; init; }
    public long MetadataSize { get; init; }
    public long BlockSize { get; init; }
    public ulong LowWaterMarkBlocks { get; init; }
    public bool SkipBlockZeroing { get; init; }
    public DiscardMode DiscardMode { get; init; }
    public NoSpacePolicy NoSpacePolicy { get; init; }
    /// <summary>Docker's dm.min_free_space: new volumes are refused below this share of free space.</summary>
    public int MinimumFreeSpacePercent { get; init; } = 10;
    /// <summary>When and how far the data space grows by itself (Set-ThinPool; Watch-ThinPool acts on it).</summary>
    public AutoextendPolicy DataAutoextend { get; init; } = AutoextendPolicy.Off;
    /// <summary>The same for the metadata space.</summary>
    public AutoextendPolicy MetadataAutoextend { get; init; } = AutoextendPolicy.Off;
    public DateTimeOffset Created { get; init; }
    /// <summary>Set-ThinPool -HandedTo: a container runtime drives the pool's thin ids; the module's volume changes refuse it unless -Force.</summary>
    public PoolRuntime HandedTo { get; init; }
    /// <summary>LVM mode: the volume group and the thin-pool LV.</summary>
    public string? VolumeGroup { get; init; }
    public string? LogicalVolume { get; init; }

    /// <summary>
    /// The pool's dm name: LVM's `vg-lv` for a pool in a volume group (its live thin-pool may be
    /// `vg-lv-tpool`: the LVM backing's LiveDeviceName), otherwise the pool's name.
    /// </summary>
    [JsonIgnore]
    public string DeviceName => VolumeGroup is { } group ? Naming.LvmDeviceName(group, LogicalVolume!) : Naming.PoolDeviceName(Name);

    [JsonIgnore]
    public string DevicePath => $"/dev/mapper/{DeviceName}";

    [JsonIgnore]
    public string Uuid => Naming.PoolUuid(Id);

    /// <summary>
    /// The low water mark for a data space of <paramref name="dataBlocks"/>: the kernel raises an
    /// event once free blocks fall below it. With data autoextend on, it sits at the policy's
    /// threshold, so that Watch-ThinPool hears of the crossing at once rather than at its next timer check.
    /// </summary>
    public ulong LowWaterMarkFor(ulong dataBlocks) => DataAutoextend.Enabled
        ? Math.Max(1, dataBlocks * (ulong)(100 - DataAutoextend.ThresholdPercent) / 100)
        : LowWaterMarkBlocks;

    /// <summary>The table for the given devices, as the record describes it.</summary>
    public ThinPoolTable TableFor(DeviceNumber metadataDevice, DeviceNumber dataDevice) => new()
    {
        MetadataDevice = metadataDevice,
        DataDevice = dataDevice,
        BlockSizeSectors = (uint)Sectors.FromBytes(BlockSize),
        LowWaterMarkBlocks = LowWaterMarkFor((ulong)(DataSize / BlockSize)),
        SkipBlockZeroing = SkipBlockZeroing,
        DiscardMode = DiscardMode,
        NoSpacePolicy = NoSpacePolicy,
    };
}
