using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools.Backings;
using DmPowerShell.Registry;
using DmPowerShell.Storage;

namespace DmPowerShell.Pools;

/// <summary>
/// The pools of one registry: queries here, changes through each pool's backing (loop, direct,
/// LVM), which runs them under the pool's lock and leaves the registry and the kernel in
/// agreement, or rolls back what it did.
/// </summary>
public sealed class PoolService
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

    /// <summary>What differs with where the pool lives: chosen here, once, from the record.</summary>
    public IPoolBacking BackingOf(PoolRecord record) => PoolBackings.For(record.Backing, this);

    // ---------------------------------------------------------------- changes, each through the pool's backing

    /// <summary>Creates and activates a pool. Returns null when the host declined the change.</summary>
    public ThinPool? Create(PoolSpec spec, IOperationHost host) => PoolBackings.For(PoolBackings.KindOf(spec), this).Create(spec, host);

    /// <summary>Activates a recorded pool with the same devices and table, then its volumes recorded as active.</summary>
    public ThinPool? Enable(string name, IOperationHost host)
    {
        var record = Require(name);
        return BackingOf(record).Enable(record, host);
    }

    /// <summary>Deactivates a pool, keeping its storage and record.</summary>
    public bool Disable(string name, bool deactivateVolumes, IOperationHost host)
    {
        var record = Require(name);
        return BackingOf(record).Disable(record, deactivateVolumes, host);
    }

    /// <summary>Grows the pool's data and/or metadata (the guide's procedure). Shrinking is refused.</summary>
    public ThinPool? Resize(string name, long? newDataSize, long? newMetadataSize, IOperationHost host) =>
        Resize(name, new PoolResize(newDataSize, newMetadataSize), host);

    public ThinPool? Resize(string name, PoolResize request, IOperationHost host)
    {
        var record = Require(name);
        return BackingOf(record).Resize(record, request, host);
    }

    /// <summary>Deactivates a pool and forgets it; its storage is deleted only when asked.</summary>
    public bool Remove(string name, bool deactivateVolumes, bool deleteBackingFiles, IOperationHost host)
    {
        var record = Require(name);
        return BackingOf(record).Remove(record, deactivateVolumes, deleteBackingFiles, host);
    }

    /// <summary>Set-ThinPool: the pool's policies, in its record (and its table where they are table features).</summary>
    public ThinPool? SetPolicies(string name, PoolPolicyChange change, IOperationHost host)
    {
        var record = Require(name);
        var updated = PoolPolicies.Apply(record, change);
        var changes = PoolPolicies.Describe(record, updated);
        if (changes.Length == 0)
        {
            host.Verbose($"pool '{name}' already has these settings");
            return Get(name);
        }
        return BackingOf(record).SetPolicies(record, updated, changes, host);
    }

    // ---------------------------------------------------------------- records and live devices

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
            LvmMonitoring = BackingOf(record).Monitoring(record),
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
            HandedTo = record.HandedTo,
            MinimumFreeSpacePercent = record.MinimumFreeSpacePercent,
            DataAutoextend = record.DataAutoextend,
            MetadataAutoextend = record.MetadataAutoextend,
            Created = record.Created,
            StateRoot = Registry.Root,
        };
    }


    /// <summary>A busy device: say who holds it (open count, mounts in any namespace, holders).</summary>
    public DmPowerShellException Busy(string deviceName, Exception inner) => DeviceBusy.Explain(dm, deviceName, inner);

    internal bool IsActive(PoolRecord record) => LiveDeviceName(record) is not null;

    /// <summary>The pool's live thin-pool device, or null when it is not active.</summary>
    public string? LiveDeviceName(PoolRecord record) => BackingOf(record).LiveDeviceName(record);

    /// <summary>A change the module makes only to pools whose table it owns (not LVM's).</summary>
    internal void RequireOwnTable(PoolRecord record, string instead) => BackingOf(record).RequireOwnTable(record, instead);

    /// <summary>Refusals of a new pool's name: in the registry, or as a device-mapper device.</summary>
    internal void CheckNameFree(PoolRecord record)
    {
        if (Registry.FindPool(record.Name) is not null)
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists, $"A pool named '{record.Name}' already exists in {Registry.Root}.", record.Name);
        }
        if (dm.GetInfo(record.DeviceName) is { } other)
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists,
                $"A device-mapper device named '{record.DeviceName}' already exists (uuid '{other.Uuid}'); choose another pool name.", record.Name);
        }
    }

    /// <summary>Active thin devices whose table points at this pool.</summary>
    public IReadOnlyList<string> ThinDevicesOf(PoolRecord record)
    {
        var info = dm.GetInfo(record.DeviceName);
        return info is null ? Array.Empty<string>() : ThinDevicesOf(info.Device).Select(t => t.Name).ToList();
    }

    /// <param name="skipUuidPrefix">Devices whose listed uuid starts so are left out unread (the caller knows them already: its own volumes).</param>
    /// <param name="skip">The same test for devices the list gives no uuid for (a kernel before dm ioctl 4.45).</param>
    internal IReadOnlyList<(string Name, ulong Length)> ThinDevicesOf(DeviceNumber pool, string? skipUuidPrefix = null, Func<DeviceListEntry, bool>? skip = null)
    {
        var result = new List<(string, ulong)>();
        foreach (var entry in StackedOn(pool, skipUuidPrefix).Where(e => skip?.Invoke(e) != true))
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

    /// <summary>
    /// The dm devices that may be stacked on a device: its holders in sysfs, named through one
    /// device list; every dm device on the host when sysfs cannot tell.
    /// </summary>
    /// <param name="skipUuidPrefix">Leave out devices whose listed uuid starts so.</param>
    internal IReadOnlyList<DeviceListEntry> StackedOn(DeviceNumber device, string? skipUuidPrefix = null)
    {
        var holders = dm.GetHolders(device);
        if (holders is { Count: 0 })
        {
            return Array.Empty<DeviceListEntry>();
        }
        return dm.List(new DeviceListFilter(holders?.ToHashSet(), skipUuidPrefix));
    }

    /// <summary>
    /// The runtime that drives the pool's thin ids: the one the record names (Set-ThinPool
    /// -HandedTo), else one whose devices are active on the pool (none when the pool is inactive).
    /// </summary>
    public PoolRuntime RuntimeOf(PoolRecord record, DeviceNumber? poolDevice)
    {
        // Lazy: the devices are listed only when the record names no runtime; the module's own
        // volumes are left out by their uuids, unread.
        IEnumerable<string> LiveThinDevices()
        {
            if (poolDevice is not { } device) yield break;
            foreach (var entry in StackedOn(device, Naming.VolumeUuidPrefix(record.Id))) yield return entry.Name;
        }
        return RuntimeDevices.Driving(record.HandedTo, record.DeviceName, LiveThinDevices());
    }

    /// <summary>Whether a table is one thin target on the given pool device.</summary>
    internal static bool IsThinDeviceOf(IReadOnlyList<DmTarget> table, DeviceNumber pool) =>
        table is [{ TargetType: ThinTable.TargetType } thin] && thin.Parameters.Split(' ')[0] == pool.ToString();

    /// <summary>
    /// Only a command holding the pool's lock suspends the pool or its devices: one found suspended
    /// under that lock was left by a killed command, and is resumed.
    /// </summary>
    /// <param name="info">The device's state when the caller has it already.</param>
    internal static void ResumeIfLeftSuspended(IDeviceMapper dm, string deviceName, IOperationHost host, DeviceInfo? info = null)
    {
        if ((info ?? dm.GetInfo(deviceName)) is { Suspended: true })
        {
            host.Warning($"Resuming /dev/mapper/{deviceName}, left suspended by an interrupted command.");
            dm.Resume(deviceName);
        }
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>/dev/loopN or /dev/dm-N for a device number, from sysfs; the number (major:minor) when unknown.</summary>
    internal static string BlockDeviceName(DeviceNumber device)
    {
        var link = $"/sys/dev/block/{device}";
        try
        {
            var target = new DirectoryInfo(link).LinkTarget;
            return target is null ? device.ToString() : "/dev/" + Path.GetFileName(target);
        }
        catch (IOException)
        {
            return device.ToString();
        }
    }
}
