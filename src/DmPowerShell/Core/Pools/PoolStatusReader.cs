using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Pools;

/// <summary>
/// Reads the status of thin pools: the module's own and any other on the host (LVM's,
/// docker's). Read-only: it never changes a pool, and reads status without flushing.
/// </summary>
public sealed class PoolStatusReader
{
    private readonly IDeviceMapper dm;
    private readonly PoolService pools;

    // The driver's version changes only when dm-mod is reloaded, which the kernel refuses while any
    // dm device exists; a pool's status is read only while its device does. Asked once per process.
    private static DeviceMapperVersion? version;

    public PoolStatusReader(PoolService pools, IDeviceMapper? client = null)
    {
        this.pools = pools;
        dm = client ?? pools.DeviceMapper;
    }

    /// <summary>Every thin-pool device on the host.</summary>
    public IReadOnlyList<PoolStatus> ReadAll()
    {
        var context = new Context(dm);
        var result = new List<PoolStatus>();
        foreach (var device in context.Devices.Where(d => d.Table is [{ TargetType: ThinPoolTable.TargetType }]))
        {
            if (dm.GetInfoAndStatus(device.Name) is not { } live)
            {
                continue; // removed while we listed
            }
            result.Add(Read(device.Name, live.Info, device.Table[0], live.Status, version ??= dm.GetVersion(),
                (_, skip) => context.ThinDevicesOf(live.Info.Device, skip)));
        }
        return result.OrderBy(s => s.PoolName, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// One pool: a pool name from the registry, else a device-mapper name (such as LVM's
    /// vg-pool-tpool) or /dev/mapper path. The kernel is asked a constant number of times
    /// whatever the pool holds: the pool's info and status, its table and one device list (and
    /// the driver's version, once per process). The thin devices on it are its holders in
    /// sysfs; the device list's uuids tell the module's volumes from others, and only the others
    /// cost their own ioctls. Counts and sizes come from the registry's summary.
    /// </summary>
    public PoolStatus Read(string name)
    {
        var record = Naming.Check(name, "pool") is null ? pools.Registry.FindPool(name) : null;
        var deviceName = record?.DeviceName ?? (name.StartsWith("/dev/mapper/", StringComparison.Ordinal) ? name["/dev/mapper/".Length..] : name);
        var live = dm.GetInfoAndStatus(deviceName);
        var recordIsLive = record is not null && live?.Info.Uuid == record.Uuid;
        if (record is not null && !recordIsLive && pools.LiveDeviceName(record) is { } other)
        {
            // Under another name than its own (an LVM-mode pool's device is LVM's): asked again.
            deviceName = other;
            live = dm.GetInfoAndStatus(deviceName);
            recordIsLive = true;
        }
        IReadOnlyList<DmTarget>? table = null;
        try
        {
            table = live is null ? null : dm.GetTable(deviceName);
        }
        catch (DeviceNotFoundException)
        {
            // removed since: as if it had never been there
        }
        if (live is null || table is null)
        {
            if (record is not null)
            {
                throw new DmPowerShellException(ErrorIds.PoolInactive, ErrorKind.InvalidState,
                    $"Pool '{name}' is not active, so the kernel has no status for it. Enable-ThinPool '{name}' activates it.", name);
            }
            throw new DmPowerShellException(ErrorIds.PoolNotFound, ErrorKind.NotFound,
                $"There is no pool named '{name}': neither in {pools.Registry.Root} nor as a device-mapper thin pool. Get-PoolStatus without a name lists every pool.", name);
        }
        if (table is not [{ TargetType: ThinPoolTable.TargetType } target])
        {
            throw new DmPowerShellException(ErrorIds.PoolNotFound, ErrorKind.InvalidArgument,
                $"The device-mapper device '{deviceName}' is not a thin pool (its table is {string.Join("; ", table.Select(t => t.TargetType))}).", name);
        }
        var pool = live.Value.Info.Device;
        return Read(deviceName, live.Value.Info, target, live.Value.Status, version ??= dm.GetVersion(), (prefix, skip) => pools.ThinDevicesOf(pool, prefix, skip), recordIsLive ? record : null);
    }

    /// <param name="thinDevices">
    /// The live thin devices on the pool, given the uuid prefix and the test of devices to leave
    /// out (the module's own volumes, known by their uuids: the registry counts them).
    /// </param>
    private PoolStatus Read(string deviceName, DeviceInfo info, DmTarget target, IReadOnlyList<DmTarget> statusTargets, DeviceMapperVersion version,
        Func<string?, Func<DeviceListEntry, bool>, IEnumerable<(string Name, ulong Length)>> thinDevices, PoolRecord? known = null)
    {
        var table = ThinPoolTable.Parse(target.Parameters);
        var statusLine = statusTargets.Single().Parameters;
        ThinPoolStatus status;
        try
        {
            status = ThinPoolStatus.Parse(statusLine);
        }
        catch (FormatException)
        {
            // A status line this module cannot read still gives an object that says so.
            status = new ThinPoolStatus { Health = TargetHealth.Error, Raw = statusLine };
        }
        var record = known ?? FindRecord(info.Uuid, deviceName);
        // An LVM-mode pool is LVM's to manage, though the module made it and names it.
        var manager = record is not null ? pools.BackingOf(record).Manager
            : info.Uuid?.StartsWith("LVM-", StringComparison.Ordinal) == true ? PoolManager.Lvm
            : deviceName.StartsWith("docker-", StringComparison.Ordinal) && deviceName.EndsWith("-pool", StringComparison.Ordinal) ? PoolManager.Docker
            : PoolManager.Other;

        var blockBytes = (long)table.BlockSizeBytes;
        var dataTotal = (long)status.TotalDataBlocks * blockBytes;
        var dataUsed = (long)status.UsedDataBlocks * blockBytes;
        var metaTotal = (long)(status.TotalMetadataBlocks * ThinPoolStatus.MetadataBlockBytes);
        var metaUsed = (long)(status.UsedMetadataBlocks * ThinPoolStatus.MetadataBlockBytes);
        var dataFile = PoolService.BlockDeviceName(table.DataDevice);
        var metaFile = PoolService.BlockDeviceName(table.MetadataDevice);
        var dataLoopFile = LoopBackingFile(table.DataDevice);
        var metaLoopFile = LoopBackingFile(table.MetadataDevice);

        var dataAvailable = Math.Max(0, dataTotal - dataUsed);
        var limited = false;
        if (dataLoopFile is not null && Directory.Exists(Path.GetDirectoryName(dataLoopFile)))
        {
            // A sparse pool can promise more than its file system holds: report what really fits.
            var space = FileSystemSpace.Of(Path.GetDirectoryName(dataLoopFile)!);
            if (space.Available < dataAvailable)
            {
                dataAvailable = space.Available;
                limited = true;
            }
        }
        // The module's pools count their records (active or not) from the summary; others, the live thin devices.
        var store = record is null ? null : new VolumeStore(pools.Registry, record.Name);
        var summary = store?.Summary();
        // Thin devices on the pool that are not the module's volumes (made by dmsetup, say) count too.
        bool OwnVolume(DeviceListEntry device) =>
            record is not null && Naming.ThinIdFromUuid(record.Id, dm.UuidOf(device)) is not null;
        var unrecorded = thinDevices(record is null ? null : Naming.VolumeUuidPrefix(record.Id), OwnVolume).ToList();
        var provisioned = (summary?.ProvisionedBytes ?? 0) + unrecorded.Sum(t => Sectors.ToBytes(t.Length));
        var minFreePercent = record?.MinimumFreeSpacePercent ?? 10;
        var healthy = status.Health == TargetHealth.Ok;
        var watchedBy = WatchLocks.HolderOf(deviceName);

        return new PoolStatus
        {
            PoolName = deviceName,
            Name = record?.Name,
            DeviceName = deviceName,
            Device = info.Device.ToString(),
            Uuid = info.Uuid,
            Manager = manager,
            PoolBlocksize = blockBytes,
            BaseDeviceSize = summary?.BaseSize,
            BackingFilesystem = summary?.BaseFileSystem,
            DataFile = dataFile,
            MetadataFile = metaFile,
            DataLoopFile = dataLoopFile,
            MetadataLoopFile = metaLoopFile,
            DataSpaceUsed = dataUsed,
            DataSpaceTotal = dataTotal,
            DataSpaceAvailable = dataAvailable,
            MetadataSpaceUsed = metaUsed,
            MetadataSpaceTotal = metaTotal,
            MetadataSpaceAvailable = Math.Max(0, metaTotal - metaUsed),
            MinFreeSpace = dataTotal * minFreePercent / 100,
            UdevSyncSupported = dm.UdevSyncSupported,
            // Both are available on every removal (Remove-ThinVolume -Deferred) of the module's pools.
            DeferredRemovalEnabled = record is not null,
            DeferredDeletionEnabled = record is not null,
            DeferredDeletedDeviceCount = store?.PendingDeletions().Count ?? 0,
            LibraryVersion = version.Library,
            ThinToolsVersion = ThinTools.Version,
            DriverVersion = version.Driver,
            Health = status.Health,
            TransactionId = status.TransactionId,
            HeldMetadataRoot = status.HeldMetadataRoot,
            Mode = healthy ? status.Mode : null,
            DiscardMode = status.DiscardMode,
            NoSpacePolicy = status.NoSpacePolicy,
            NeedsCheck = status.NeedsCheck,
            MetadataLowWatermark = status.MetadataLowWatermark,
            UsedDataBlocks = status.UsedDataBlocks,
            TotalDataBlocks = status.TotalDataBlocks,
            UsedMetadataBlocks = status.UsedMetadataBlocks,
            TotalMetadataBlocks = status.TotalMetadataBlocks,
            RawStatus = status.Raw,
            DataUsedPercent = dataTotal == 0 ? 0 : Math.Round(100.0 * dataUsed / dataTotal, 2),
            MetadataUsedPercent = metaTotal == 0 ? 0 : Math.Round(100.0 * metaUsed / metaTotal, 2),
            ThinVolumeCount = (summary?.Count ?? 0) + unrecorded.Count,
            ProvisionedSize = provisioned,
            OverProvisioningRatio = dataTotal == 0 ? 0 : Math.Round((double)provisioned / dataTotal, 3),
            BackingFilesystemLimited = limited,
            Watched = watchedBy is not null,
            WatchedBy = watchedBy,
            HandedTo = RuntimeDevices.Driving(record?.HandedTo ?? Registry.PoolRuntime.None, deviceName, unrecorded.Select(t => t.Name)),
            AutoextendEnabled = manager == PoolManager.DmPowerShell && record is not null && (record.DataAutoextend.Enabled || record.MetadataAutoextend.Enabled),
        };
    }

    private PoolRecord? FindRecord(string? uuid, string deviceName)
    {
        if (uuid?.StartsWith("LVM-", StringComparison.Ordinal) == true)
        {
            // The module's LVM-mode pools: LVM's uuid, found by LVM's device name.
            return pools.Registry.ListPools().FirstOrDefault(r => pools.BackingOf(r) is { Manager: PoolManager.Lvm } lvm && lvm.Names(r, deviceName));
        }
        if (uuid is null || !uuid.StartsWith(Naming.UuidPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        return pools.Registry.ListPools(includeUnfinished: true).FirstOrDefault(r => r.Uuid == uuid);
    }

    private static string? LoopBackingFile(DeviceNumber device)
    {
        var file = $"/sys/dev/block/{device}/loop/backing_file";
        try
        {
            return File.Exists(file) ? File.ReadAllText(file).TrimEnd('\n') : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>One listing of the host's dm devices and their tables, shared by all pools of a call.</summary>
    private sealed class Context
    {
        private readonly IDeviceMapper dm;

        public Context(IDeviceMapper dm)
        {
            this.dm = dm;
            Devices = dm.List().Select(e =>
            {
                try
                {
                    return new Entry(e, dm.GetTable(e.Name));
                }
                catch (DeviceNotFoundException)
                {
                    return null; // removed while we listed
                }
            }).OfType<Entry>().ToList();
        }

        public sealed record Entry(DeviceListEntry Device, IReadOnlyList<DmTarget> Table)
        {
            public string Name => Device.Name;
        }

        public IReadOnlyList<Entry> Devices { get; }

        public List<(string Name, ulong Length)> ThinDevicesOf(DeviceNumber pool, Func<DeviceListEntry, bool> skip)
        {
            return Devices.Where(d => PoolService.IsThinDeviceOf(d.Table, pool) && !skip(d.Device))
                .Select(d => (d.Name, d.Table[0].LengthSectors)).ToList();
        }
    }
}
