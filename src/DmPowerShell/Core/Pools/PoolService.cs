using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Storage;

namespace DmPowerShell.Pools;

/// <summary>
/// Creates, activates, resizes and removes thin pools. Each change runs under the pool's lock
/// and leaves the registry and the kernel in agreement, or rolls back what it did.
/// </summary>
public sealed partial class PoolService
{
    private readonly IDeviceMapper dm;

    public PoolService(PoolRegistry registry, IDeviceMapper? client = null)
    {
        Registry = registry;
        dm = client ?? DeviceMapperClient.Shared;
    }

    public PoolRegistry Registry { get; }

    /// <summary>The device-mapper client every service over this one uses (a recording fake in host tests).</summary>
    public IDeviceMapper DeviceMapper => dm;

    // ---------------------------------------------------------------- queries

    public IReadOnlyList<ThinPool> List() => Registry.ListPools().Select(Describe).ToList();

    public ThinPool Get(string name) => Describe(Require(name));

    public PoolRecord Require(string name)
    {
        PoolRules.CheckName(name);
        return Registry.FindPool(name) is { State: RecordState.Ready } record ? record : throw NotFound(name);
    }

    public DmPowerShellException NotFound(string name) => new(ErrorIds.PoolNotFound, ErrorKind.NotFound,
        $"There is no pool named '{name}' in {Registry.Root}. Get-ThinPool lists the pools; -StateRoot or {PoolRegistry.RootVariable} chooses another registry.", name);

    public ThinPool Describe(PoolRecord record)
    {
        var live = record.State == RecordState.Ready ? LiveDeviceName(record) : null;
        var info = live is null ? null : dm.GetInfo(live);
        var active = info is not null;
        string? dataDevice = null, metadataDevice = null;
        if (active)
        {
            var table = ThinPoolTable.Parse(dm.GetTable(live!).Single().Parameters);
            dataDevice = BlockDeviceName(table.DataDevice);
            metadataDevice = BlockDeviceName(table.MetadataDevice);
        }
        return new ThinPool
        {
            Name = record.Name,
            Id = record.Id,
            Backing = record.Backing,
            Active = active,
            DeviceName = live ?? record.DeviceName,
            DevicePath = $"/dev/mapper/{live ?? record.DeviceName}",
            VolumeGroup = record.VolumeGroup,
            LvmMonitoring = record.Backing == PoolBacking.Lvm ? Lvm.LvmPoolService.Monitoring(record) : null,
            Device = active ? info!.Device.ToString() : null,
            DataPath = record.DataPath,
            MetadataPath = record.MetadataPath,
            DataDevice = dataDevice,
            MetadataDevice = metadataDevice,
            DataSize = record.DataSize,
            MetadataSize = record.MetadataSize,
            BlockSize = record.BlockSize,
            LowWaterMarkBlocks = record.LowWaterMarkFor((ulong)(record.DataSize / record.BlockSize)),
            SkipBlockZeroing = record.SkipBlockZeroing,
            DiscardMode = record.DiscardMode,
            NoSpacePolicy = record.NoSpacePolicy,
            MinimumFreeSpacePercent = record.MinimumFreeSpacePercent,
            DataAutoextend = record.DataAutoextend,
            MetadataAutoextend = record.MetadataAutoextend,
            Created = record.Created,
            StateRoot = Registry.Root,
        };
    }


    private void RemoveDevice(string name)
    {
        try
        {
            dm.Remove(name);
        }
        catch (DeviceBusyException e)
        {
            throw Busy(name, e);
        }
    }

    /// <summary>A busy device: say who holds it (open count, mounts in any namespace, holders).</summary>
    public DmPowerShellException Busy(string deviceName, Exception inner) => DeviceBusy.Explain(dm, deviceName, inner);

    internal bool IsActive(PoolRecord record) => LiveDeviceName(record) is not null;

    /// <summary>
    /// The pool's live thin-pool device, or null when it is not active. LVM maps an LVM pool's
    /// thin-pool as `vg-lv` while it has no thin LVs, and as `vg-lv-tpool` once it has.
    /// </summary>
    public string? LiveDeviceName(PoolRecord record)
    {
        if (record.Backing != PoolBacking.Lvm)
        {
            return dm.GetInfo(record.DeviceName) is { } info && info.Uuid == record.Uuid ? record.DeviceName : null;
        }
        foreach (var name in new[] { Lvm.LvmNames.PoolTargetName(record.VolumeGroup!, record.LogicalVolume!), record.DeviceName })
        {
            if (dm.GetInfo(name) is not null && dm.GetTable(name) is [{ TargetType: ThinPoolTable.TargetType }])
            {
                return name;
            }
        }
        return null;
    }

    /// <summary>A change the module makes only to pools whose table it owns.</summary>
    internal static void RefuseLvm(PoolRecord record, string instead)
    {
        if (record.Backing == PoolBacking.Lvm)
        {
            throw new DmPowerShellException(ErrorIds.PoolNotOwned, ErrorKind.InvalidState,
                $"Pool '{record.Name}' is an LVM thin pool ({record.VolumeGroup}/{record.LogicalVolume}): LVM keeps its transaction id and thin ids, so the module sends it no thin messages. {instead}", record.Name);
        }
    }

    /// <summary>Active thin devices whose table points at this pool.</summary>
    public IReadOnlyList<string> ThinDevicesOf(PoolRecord record)
    {
        var info = dm.GetInfo(record.DeviceName);
        return info is null ? Array.Empty<string>() : ThinDevicesOf(info.Device).Select(t => t.Name).ToList();
    }

    internal IReadOnlyList<(string Name, ulong Length)> ThinDevicesOf(DeviceNumber pool)
    {
        var result = new List<(string, ulong)>();
        foreach (var entry in dm.List())
        {
            IReadOnlyList<DmTarget> table;
            try
            {
                table = dm.GetTable(entry.Name);
            }
            catch (DeviceNotFoundException)
            {
                continue; // removed while we looked
            }
            if (IsThinDeviceOf(table, pool))
            {
                result.Add((entry.Name, table[0].LengthSectors));
            }
        }
        return result;
    }

    /// <summary>Whether a table is one thin target on the given pool device.</summary>
    internal static bool IsThinDeviceOf(IReadOnlyList<DmTarget> table, DeviceNumber pool) =>
        table is [{ TargetType: ThinTable.TargetType } thin] && thin.Parameters.Split(' ')[0] == pool.ToString();
    // ---------------------------------------------------------------- helpers

    /// <summary>/dev/loopN or /dev/dm-N for a major:minor, from sysfs; the input when unknown.</summary>
    internal static string? BlockDeviceName(string device)
    {
        if (!DeviceNumber.TryParse(device, out _))
        {
            return device;
        }
        var link = $"/sys/dev/block/{device}";
        try
        {
            var target = new DirectoryInfo(link).LinkTarget;
            return target is null ? device : "/dev/" + Path.GetFileName(target);
        }
        catch (IOException)
        {
            return device;
        }
    }
}
