using System.Text;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Pools;

/// <summary>
/// Creates, activates, resizes and removes thin pools. Each change runs under the pool's lock
/// and leaves the registry and the kernel in agreement, or rolls back what it did.
/// </summary>
public sealed class PoolService
{
    private readonly DeviceMapperClient dm;

    public PoolService(PoolRegistry registry, DeviceMapperClient? client = null)
    {
        Registry = registry;
        dm = client ?? DeviceMapperClient.Shared;
    }

    public PoolRegistry Registry { get; }

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

    // ---------------------------------------------------------------- create

    /// <summary>Creates and activates a pool. Returns null when the host declined the change.</summary>
    public ThinPool? Create(PoolSpec spec, IOperationHost host)
    {
        if (spec.IsLvm)
        {
            return new Lvm.LvmPoolService(this).Create(spec, host);
        }
        if (spec.PhysicalDevices.Count > 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSetting, "-PhysicalDevice is for LVM mode: give -VolumeGroup too.", spec.PhysicalDevices[0]);
        }
        var (dataSize, metadataSize) = ResolveSizes(spec);
        foreach (var warning in PoolRules.Validate(spec, dataSize, metadataSize))
        {
            host.Warning(warning);
        }
        var blocks = (ulong)(dataSize / spec.BlockSize);
        var record = new PoolRecord
        {
            Name = spec.Name,
            Id = Guid.NewGuid().ToString("N"),
            State = RecordState.Creating,
            Backing = spec.IsDirect ? PoolBacking.Direct : PoolBacking.Loop,
            DataPath = spec.IsDirect ? Path.GetFullPath(spec.DataDevice!) : Path.Combine(Registry.PoolFolder(spec.Name), "data"),
            MetadataPath = spec.IsDirect ? Path.GetFullPath(spec.MetadataDevice!) : Path.Combine(Registry.PoolFolder(spec.Name), "metadata"),
            DataSize = dataSize,
            MetadataSize = metadataSize,
            BlockSize = spec.BlockSize,
            LowWaterMarkBlocks = spec.LowWaterMarkBlocks ?? PoolRules.DefaultLowWaterMark(blocks, spec.MinimumFreeSpacePercent),
            SkipBlockZeroing = spec.SkipBlockZeroing,
            DiscardMode = spec.DiscardMode,
            NoSpacePolicy = spec.NoSpacePolicy,
            MinimumFreeSpacePercent = spec.MinimumFreeSpacePercent,
            Created = DateTimeOffset.UtcNow,
        };
        record = PoolPolicies.Apply(record, new PoolPolicyChange { DataThresholdPercent = spec.AutoextendThreshold, DataStepPercent = spec.AutoextendPercent });
        if (spec.IsDirect)
        {
            CheckDirectDevices(spec);
        }
        if (!host.ShouldProcess($"thin pool '{spec.Name}'", "Create", DescribeCreation(record)))
        {
            return null;
        }

        dm.GetVersion(); // no driver, no root: say so before anything is written
        using var registryLock = Registry.LockRegistry();
        RollBackUnfinished(spec.Name, host);
        CheckNameFree(record);
        if (record.Backing == PoolBacking.Loop)
        {
            foreach (var file in new[] { record.DataPath, record.MetadataPath })
            {
                if (File.Exists(file))
                {
                    throw new DmPowerShellException(ErrorIds.BackingFileExists, ErrorKind.AlreadyExists,
                        $"The backing file {file} already exists (left by a pool removed without -DeleteBackingFiles?). Move or delete it, or choose another name; it is never overwritten.", file);
                }
            }
            WarnWhenSparseExceedsFileSystem(record, host);
        }
        using var poolLock = Registry.LockPool(spec.Name);
        FaultInjection.Begin("pool-create");
        Registry.SavePool(record);
        FaultInjection.Step("record-written");
        var created = new List<string>();
        var deviceCreated = false;
        try
        {
            host.Progress($"Creating thin pool '{record.Name}'", "backing storage", 10);
            if (record.Backing == PoolBacking.Loop)
            {
                CreateSparseFile(record.DataPath, record.DataSize, host);
                created.Add(record.DataPath);
                CreateSparseFile(record.MetadataPath, record.MetadataSize, host);
                created.Add(record.MetadataPath);
                FaultInjection.Step("files-created");
            }
            else
            {
                ZeroSuperblock(record.MetadataPath, host);
            }
            host.Progress($"Creating thin pool '{record.Name}'", "loading the thin-pool table", 60);
            ActivateDevice(record, host);
            deviceCreated = true;
            FaultInjection.Step("device-created");
            Registry.SavePool(record with { State = RecordState.Ready });
            FaultInjection.Step("record-ready");
            host.Progress($"Creating thin pool '{record.Name}'", "done", 100, completed: true);
            return Get(record.Name);
        }
        catch
        {
            // Roll back in reverse: device, files, record. The loops auto-clear with the device.
            host.Progress($"Creating thin pool '{record.Name}'", "rolling back", -1, completed: true);
            if (deviceCreated && dm.GetInfo(record.DeviceName) is not null)
            {
                dm.Remove(record.DeviceName);
            }
            foreach (var file in created)
            {
                DurableFile.Delete(file);
            }
            Registry.DeletePool(record.Name);
            Registry.DeletePoolFolderIfEmpty(record.Name);
            throw;
        }
    }

    private (long Data, long Metadata) ResolveSizes(PoolSpec spec)
    {
        if (!spec.IsDirect)
        {
            return (spec.DataSize ?? PoolSpec.DefaultDataSize, spec.MetadataSize ?? PoolSpec.DefaultMetadataSize);
        }
        if (spec.DataDevice is null || spec.MetadataDevice is null)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSetting, "Direct mode needs both -DataDevice and -MetadataDevice.", spec.DataDevice ?? spec.MetadataDevice);
        }
        var data = RequireBlockDevice(spec.DataDevice);
        var metadata = RequireBlockDevice(spec.MetadataDevice);
        if (data == metadata || Path.GetFullPath(spec.DataDevice) == Path.GetFullPath(spec.MetadataDevice))
        {
            throw PoolRules.Invalid(ErrorIds.SameDevice, $"The data and metadata devices are the same device ({data}); give two different block devices.", spec.DataDevice);
        }
        var dataSize = (long)BlockDevices.GetSize(spec.DataDevice);
        var metadataSize = Math.Min((long)BlockDevices.GetSize(spec.MetadataDevice), PoolSpec.MaxMetadataSize);
        // A pool spans whole blocks; the tail of the data device under one block stays unused.
        dataSize -= dataSize % spec.BlockSize;
        if (spec.DataSize is { } askedData && askedData != dataSize)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSize, $"In direct mode the data size is the device's: {ByteSize.Format(dataSize)} usable on {spec.DataDevice}; leave -DataSize out.", askedData);
        }
        if (spec.MetadataSize is { } askedMeta && askedMeta != metadataSize)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSize, $"In direct mode the metadata size is the device's: {ByteSize.Format(metadataSize)} on {spec.MetadataDevice}; leave -MetadataSize out.", askedMeta);
        }
        return (dataSize, metadataSize - metadataSize % PoolSpec.MetadataBlockSize);
    }

    internal static DeviceNumber RequireBlockDevice(string path)
    {
        if (!BlockDevices.IsBlockDevice(path))
        {
            throw new DmPowerShellException(ErrorIds.DeviceNotFound, ErrorKind.NotFound, $"{path} is not a block device.", path);
        }
        return BlockDevices.GetDeviceNumber(path);
    }

    private static void CheckDirectDevices(PoolSpec spec)
    {
        foreach (var device in new[] { spec.DataDevice!, spec.MetadataDevice! })
        {
            CheckDeviceFree(device, spec.Force);
        }
    }

    /// <summary>A device the module is about to overwrite: not in use, and without a signature unless forced.</summary>
    internal static void CheckDeviceFree(string device, bool force)
    {
        if (DeviceUsage.WhyBusy(device) is { } busy)
        {
            throw new DmPowerShellException(ErrorIds.DeviceInUse, ErrorKind.ResourceBusy, $"Refusing to use {device}: {busy}.", device);
        }
        if (!force && DeviceUsage.Signature(device) is { } signature)
        {
            throw new DmPowerShellException(ErrorIds.DeviceHasSignature, ErrorKind.InvalidArgument,
                $"{device} carries {signature}. Its contents would be lost: check it is the right device, then add -Force.", device);
        }
    }

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

    /// <summary>A record left in Creating by a killed process: undo what that creation did.</summary>
    private void RollBackUnfinished(string name, IOperationHost host)
    {
        if (Registry.FindPool(name) is not { State: RecordState.Creating } stale)
        {
            return;
        }
        host.Warning($"Rolling back the unfinished creation of pool '{name}' (a previous command was interrupted).");
        if (dm.GetInfo(stale.DeviceName) is { } info && info.Uuid == stale.Uuid)
        {
            dm.Remove(stale.DeviceName);
        }
        if (stale.Backing == PoolBacking.Loop)
        {
            foreach (var file in new[] { stale.DataPath, stale.MetadataPath })
            {
                if (LoopDevices.FindByBackingFile(file) is { } loop) LoopDevices.Detach(loop.Path);
                DurableFile.Delete(file);
            }
        }
        Registry.DeletePool(name);
    }

    private static void WarnWhenSparseExceedsFileSystem(PoolRecord record, IOperationHost host)
    {
        var folder = Path.GetDirectoryName(record.DataPath)!;
        var existing = folder;
        while (!Directory.Exists(existing)) existing = Path.GetDirectoryName(existing)!;
        var drive = FileSystemSpace.Of(existing);
        if (drive.Total < record.DataSize + record.MetadataSize)
        {
            host.Warning($"The pool's sparse files ({ByteSize.Format(record.DataSize + record.MetadataSize)}) are larger than the file system that holds them ({ByteSize.Format(drive.Total)} at {existing}); writes will fail once it fills, whatever the pool says is free.");
        }
    }

    private static void CreateSparseFile(string path, long size, IOperationHost host)
    {
        host.Verbose($"create sparse file {path} ({ByteSize.Format(size)}, mode 0600)");
        using var stream = DurableFile.OpenPrivate(path, FileMode.CreateNew);
        stream.SetLength(size);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Zeroes the first metadata block, so the kernel formats fresh metadata.</summary>
    private static void ZeroSuperblock(string device, IOperationHost host)
    {
        host.Verbose($"zero the metadata superblock on {device} (first 4 KiB)");
        using var handle = File.OpenHandle(device, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        RandomAccess.Write(handle, new byte[PoolSpec.MetadataBlockSize], 0);
        RandomAccess.FlushToDisk(handle);
    }

    private string DescribeCreation(PoolRecord record)
    {
        var plan = new StringBuilder();
        var table = record.TableFor(record.Backing == PoolBacking.Loop ? "<metadata loop major:minor>" : DeviceOf(record.MetadataPath),
            record.Backing == PoolBacking.Loop ? "<data loop major:minor>" : DeviceOf(record.DataPath));
        if (record.Backing == PoolBacking.Loop)
        {
            plan.AppendLine($"create sparse file {record.DataPath} ({ByteSize.Format(record.DataSize)}, mode 0600)");
            plan.AppendLine($"create sparse file {record.MetadataPath} ({ByteSize.Format(record.MetadataSize)}, mode 0600)");
            plan.AppendLine($"attach {record.DataPath} to /dev/loop<N> (auto-clear)");
            plan.AppendLine($"attach {record.MetadataPath} to /dev/loop<M> (auto-clear)");
        }
        else
        {
            plan.AppendLine($"zero the metadata superblock on {record.MetadataPath} (first 4 KiB)");
        }
        plan.AppendLine($"create device {record.DevicePath} uuid {record.Uuid}");
        plan.AppendLine($"load table: {table.ToTarget((ulong)record.DataSize / DmTarget.SectorSize)}");
        plan.Append($"write record {Path.Combine(Registry.PoolFolder(record.Name), "pool.json")}");
        return plan.ToString();
    }

    private static string DeviceOf(string path) =>
        BlockDevices.IsBlockDevice(path) ? BlockDevices.GetDeviceNumber(path).ToString() : path;

    // ---------------------------------------------------------------- activate / deactivate

    /// <summary>Activates a recorded pool with the same devices and table. Active pools are left as they are.</summary>
    public ThinPool? Enable(string name, IOperationHost host)
    {
        var record = Require(name);
        if (record.Backing == PoolBacking.Lvm)
        {
            return new Lvm.LvmPoolService(this).Enable(record, host);
        }
        var plan = IsActive(record)
            ? $"{record.DevicePath} is active already; activate the volumes recorded as active"
            : ActivationPlan(record);
        if (!host.ShouldProcess($"thin pool '{name}'", "Enable", plan))
        {
            return null;
        }
        FaultInjection.Begin("pool-enable");
        using (Registry.LockPool(name))
        {
            if (!IsActive(record))
            {
                if (dm.GetInfo(record.DeviceName) is { } other)
                {
                    throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists,
                        $"A different device-mapper device named '{record.DeviceName}' (uuid '{other.Uuid}') is active; remove it before enabling pool '{name}'.", name);
                }
                ActivateDevice(record, host);
                FaultInjection.Step("device-created");
            }
        }
        // The volume service takes the pool's lock itself (and finishes any interrupted change first).
        new Volumes.VolumeService(this, dm).ActivateRecorded(record, host);
        return Describe(record);
    }

    /// <summary>What activating a recorded pool does, with placeholders for what the kernel assigns.</summary>
    private string ActivationPlan(PoolRecord record)
    {
        var plan = new StringBuilder();
        string metadataDevice = record.MetadataPath, dataDevice = record.DataPath;
        if (record.Backing == PoolBacking.Loop)
        {
            plan.AppendLine($"attach {record.DataPath} to /dev/loop<N> (auto-clear)");
            plan.AppendLine($"attach {record.MetadataPath} to /dev/loop<M> (auto-clear)");
            metadataDevice = "<metadata loop major:minor>";
            dataDevice = "<data loop major:minor>";
        }
        var dataSize = record.Backing == PoolBacking.Loop && File.Exists(record.DataPath) ? new FileInfo(record.DataPath).Length : record.DataSize;
        var sectors = (ulong)dataSize / DmTarget.SectorSize;
        sectors -= sectors % ((ulong)record.BlockSize / DmTarget.SectorSize);
        plan.AppendLine($"create device {record.DevicePath} uuid {record.Uuid}");
        plan.AppendLine($"load table: {record.TableFor(metadataDevice, dataDevice).ToTarget(sectors)}");
        plan.Append("activate the volumes recorded as active");
        return plan.ToString();
    }

    /// <summary>Deactivates a pool, keeping its files (or devices) and record.</summary>
    public bool Disable(string name, bool deactivateVolumes, IOperationHost host)
    {
        var record = Require(name);
        if (record.Backing == PoolBacking.Lvm)
        {
            return new Lvm.LvmPoolService(this).Disable(record, host);
        }
        if (!IsActive(record))
        {
            host.Verbose($"pool '{name}' is not active");
            return true;
        }
        var users = ThinDevicesOf(record);
        if (users.Count > 0 && !deactivateVolumes)
        {
            throw new DmPowerShellException(ErrorIds.VolumesActive, ErrorKind.ResourceBusy,
                $"Pool '{name}' has active thin devices ({string.Join(", ", users)}); deactivate them first, or add -DeactivateVolumes.", name);
        }
        var plan = string.Join(Environment.NewLine, users.Select(u => $"remove device /dev/mapper/{u}")
            .Append($"remove device {record.DevicePath}")
            .Append(record.Backing == PoolBacking.Loop ? $"detach the loop devices of {record.DataPath} and {record.MetadataPath}" : "keep the block devices as they are"));
        if (!host.ShouldProcess($"thin pool '{name}'", "Disable", plan))
        {
            return false;
        }
        using var poolLock = Registry.LockPool(name);
        FaultInjection.Begin("pool-disable");
        ResumeIfLeftSuspended(record.DeviceName, host);
        Deactivate(record, deactivateVolumes, host);
        return true;
    }

    private void Deactivate(PoolRecord record, bool deactivateVolumes, IOperationHost host)
    {
        var users = ThinDevicesOf(record);
        if (users.Count > 0 && !deactivateVolumes)
        {
            throw new DmPowerShellException(ErrorIds.VolumesActive, ErrorKind.ResourceBusy,
                $"Pool '{record.Name}' has active thin devices ({string.Join(", ", users)}); deactivate them first.", record.Name);
        }
        for (var i = 0; i < users.Count; i++)
        {
            var user = users[i];
            if (users.Count > 1)
            {
                host.Progress($"Deactivating the thin devices of pool '{record.Name}'", $"/dev/mapper/{user} ({i + 1} of {users.Count})", i * 100 / users.Count, completed: i == users.Count - 1);
            }
            host.Verbose($"remove device /dev/mapper/{user}");
            RemoveDevice(user);
        }
        FaultInjection.Step("volumes-removed");
        if (dm.GetInfo(record.DeviceName) is not null)
        {
            var table = ThinPoolTable.Parse(dm.GetTable(record.DeviceName).Single().Parameters);
            host.Verbose($"remove device {record.DevicePath}");
            RemoveDevice(record.DeviceName);
            FaultInjection.Step("device-removed");
            if (record.Backing == PoolBacking.Loop)
            {
                foreach (var device in new[] { table.DataDevice, table.MetadataDevice })
                {
                    var path = BlockDeviceName(device);
                    if (path is not null && path.StartsWith("/dev/loop", StringComparison.Ordinal) && File.Exists($"/sys/dev/block/{device}/loop/backing_file"))
                    {
                        host.Verbose($"detach {path}");
                        LoopDevices.Detach(path);
                    }
                }
            }
        }
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
    public DmPowerShellException Busy(string deviceName, Exception inner)
    {
        var info = dm.GetInfo(deviceName);
        var reasons = new List<string>();
        if (info is not null)
        {
            reasons.Add($"open count {info.OpenCount}");
            reasons.AddRange(DeviceUsage.Mounts(info.Device).Select(m => $"mounted at {m}"));
            reasons.AddRange(DeviceUsage.Holders(info.Device).Select(h => $"held by {h}"));
        }
        return new DmPowerShellException(ErrorIds.DeviceInUse, ErrorKind.ResourceBusy,
            $"/dev/mapper/{deviceName} is busy: {string.Join("; ", reasons)}. Unmount it or stop what holds it, then try again.", deviceName, inner);
    }

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

    private void ActivateDevice(PoolRecord record, IOperationHost host)
    {
        if (record.Backing == PoolBacking.Loop)
        {
            foreach (var file in new[] { record.DataPath, record.MetadataPath })
            {
                if (!File.Exists(file))
                {
                    throw new DmPowerShellException(ErrorIds.BackingFileMissing, ErrorKind.NotFound,
                        $"The backing file {file} of pool '{record.Name}' is missing; the pool cannot be activated. Restore the file, or remove the pool with Remove-ThinPool.", file);
                }
            }
            using var data = AttachOrReuse(record.DataPath, host);
            using var metadata = AttachOrReuse(record.MetadataPath, host);
            FaultInjection.Step("loops-attached");
            var dataSectors = (ulong)new FileInfo(record.DataPath).Length / DmTarget.SectorSize;
            LoadNew(record, metadata.Device.Device.ToString(), data.Device.Device.ToString(), dataSectors, host);
        }
        else
        {
            var dataSectors = BlockDevices.GetSize(record.DataPath) / DmTarget.SectorSize;
            LoadNew(record, RequireBlockDevice(record.MetadataPath).ToString(), RequireBlockDevice(record.DataPath).ToString(), dataSectors, host);
        }
    }

    private void LoadNew(PoolRecord record, string metadataDevice, string dataDevice, ulong dataSectors, IOperationHost host)
    {
        var blockSectors = (ulong)record.BlockSize / DmTarget.SectorSize;
        var length = dataSectors - dataSectors % blockSectors;
        var target = record.TableFor(metadataDevice, dataDevice).ToTarget(length);
        host.Verbose($"create device {record.DevicePath} uuid {record.Uuid}");
        host.Verbose($"load table: {target}");
        dm.Create(record.DeviceName, record.Uuid, new[] { target });
    }

    private static LoopAttachment AttachOrReuse(string file, IOperationHost host)
    {
        // A loop already bound to the file (a crash between attach and create) is taken over.
        if (LoopDevices.FindByBackingFile(file) is { } existing)
        {
            LoopDevices.Detach(existing.Path);
        }
        var attached = LoopDevices.Attach(file);
        host.Verbose($"attach {file} to {attached.Device.Path} ({attached.Device.Device})");
        return attached;
    }

    // ---------------------------------------------------------------- resize

    /// <summary>
    /// Set-ThinPool: changes the pool's policies in its record. A new no-space behaviour of an
    /// active pool is a table feature: the same table is reloaded with it (suspend, resume).
    /// </summary>
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
        if (record.Backing == PoolBacking.Lvm)
        {
            return new Lvm.LvmPoolService(this).SetPolicies(record, updated, changes, host);
        }
        var active = IsActive(record);
        DmTarget? target = null;
        var plan = new StringBuilder(changes).AppendLine().Append($"write {Path.Combine(Registry.PoolFolder(name), "pool.json")}");
        if (active)
        {
            // The no-space behaviour and the low water mark (from the data threshold) are table parameters.
            var live = dm.GetTable(record.DeviceName).Single();
            var table = ThinPoolTable.Parse(live.Parameters);
            var wanted = table with
            {
                NoSpacePolicy = updated.NoSpacePolicy,
                LowWaterMarkBlocks = updated.LowWaterMarkFor(live.LengthSectors * DmTarget.SectorSize / (ulong)record.BlockSize),
            };
            if (wanted != table)
            {
                target = wanted.ToTarget(live.LengthSectors);
                plan.AppendLine().Append($"load table: {target}; suspend and resume {record.DevicePath}");
            }
        }
        if (!host.ShouldProcess($"thin pool '{name}'", "Set", plan.ToString()))
        {
            return null;
        }
        using var poolLock = Registry.LockPool(name);
        if (target is not null)
        {
            SwapTable(record, target, host);
        }
        host.Verbose($"write the record of pool '{name}': {changes.Replace(Environment.NewLine, "; ")}");
        Registry.SavePool(updated);
        return Get(name);
    }

    /// <summary>Grows the pool's data and/or metadata (the guide's procedure). Shrinking is refused.</summary>
    public ThinPool? Resize(string name, long? newDataSize, long? newMetadataSize, IOperationHost host) =>
        Resize(name, newDataSize, newMetadataSize, Array.Empty<string>(), false, host);

    /// <summary>LVM mode: <paramref name="physicalDevices"/> join the volume group first (vgextend).</summary>
    public ThinPool? Resize(string name, long? newDataSize, long? newMetadataSize, IReadOnlyList<string> physicalDevices, bool force, IOperationHost host)
    {
        var record = Require(name);
        if (record.Backing == PoolBacking.Lvm)
        {
            return new Lvm.LvmPoolService(this).Resize(record, newDataSize, newMetadataSize, physicalDevices, force, host);
        }
        if (physicalDevices.Count > 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSetting, $"-PhysicalDevice extends the volume group of an LVM pool; pool '{name}' is not one.", physicalDevices[0]);
        }
        if (!IsActive(record))
        {
            throw new DmPowerShellException(ErrorIds.PoolInactive, ErrorKind.InvalidState,
                $"Pool '{name}' is not active; Enable-ThinPool it first, then resize.", name);
        }
        var table = ThinPoolTable.Parse(dm.GetTable(record.DeviceName).Single().Parameters);
        var dataPath = BlockDeviceName(table.DataDevice)!;
        var metadataPath = BlockDeviceName(table.MetadataDevice)!;
        var currentData = record.Backing == PoolBacking.Loop ? new FileInfo(record.DataPath).Length : (long)BlockDevices.GetSize(record.DataPath);
        var currentMeta = record.Backing == PoolBacking.Loop ? new FileInfo(record.MetadataPath).Length : (long)BlockDevices.GetSize(record.MetadataPath);
        if (record.Backing == PoolBacking.Direct)
        {
            // Direct mode: the device already grew (lvextend, a bigger LUN); take its size.
            newDataSize ??= currentData - currentData % record.BlockSize;
            if (newDataSize > currentData)
            {
                throw PoolRules.Invalid(ErrorIds.InvalidSize, $"{record.DataPath} holds {ByteSize.Format(currentData)}; grow the device first, then resize the pool.", newDataSize);
            }
        }
        var data = newDataSize ?? currentData;
        var meta = newMetadataSize ?? currentMeta;
        var liveData = (long)dm.GetTable(record.DeviceName).Single().LengthSectors * DmTarget.SectorSize;
        if (data < liveData || (record.Backing == PoolBacking.Loop && data < currentData))
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"Pool '{name}' holds {ByteSize.Format(Math.Max(liveData, currentData))} of data space; a thin pool cannot shrink. Give a size of at least that.", name);
        }
        if (meta < currentMeta)
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"Pool '{name}' has {ByteSize.Format(currentMeta)} of metadata; pool metadata cannot shrink. Give a size of at least that.", name);
        }
        if (data % record.BlockSize != 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSize, $"The data size {ByteSize.Format(data)} is not a multiple of the pool's block size {ByteSize.Format(record.BlockSize)}.", data);
        }
        if (newMetadataSize is not null)
        {
            PoolRules.CheckMetadataSize(meta);
        }
        // The kernel's view of the metadata: a resize killed after growing the file left it behind.
        var status = ThinPoolStatus.Parse(dm.GetStatus(record.DeviceName, noFlush: true).Single().Parameters);
        var liveMetaBlocks = status.TotalMetadataBlocks;
        var wantedMetaBlocks = (ulong)Math.Min(meta, PoolSpec.MaxMetadataSize) / PoolSpec.MetadataBlockSize;
        if (data == liveData && meta == currentMeta && liveMetaBlocks >= wantedMetaBlocks)
        {
            host.Verbose($"pool '{name}' already has that size");
            if (record.DataSize != data || record.MetadataSize != meta)
            {
                using var recordLock = Registry.LockPool(name);
                Registry.SavePool(record with { DataSize = data, MetadataSize = meta });
            }
            return Get(name);
        }
        var newTarget = (table with { LowWaterMarkBlocks = record.LowWaterMarkFor((ulong)(data / record.BlockSize)) }).ToTarget((ulong)data / DmTarget.SectorSize);
        var plan = new StringBuilder();
        if (record.Backing == PoolBacking.Loop && data > currentData) plan.AppendLine($"grow {record.DataPath} to {ByteSize.Format(data)}; LOOP_SET_CAPACITY {dataPath}");
        if (record.Backing == PoolBacking.Loop && meta > currentMeta) plan.AppendLine($"grow {record.MetadataPath} to {ByteSize.Format(meta)}; LOOP_SET_CAPACITY {metadataPath}");
        plan.AppendLine($"load table: {newTarget}");
        plan.Append($"suspend and resume {record.DevicePath}");
        if (!host.ShouldProcess($"thin pool '{name}'", "Resize", plan.ToString()))
        {
            return null;
        }

        using var poolLock = Registry.LockPool(name);
        FaultInjection.Begin("pool-resize");
        ResumeIfLeftSuspended(record.DeviceName, host);
        host.Progress($"Resizing thin pool '{name}'", "growing the backing storage", 20);
        if (record.Backing == PoolBacking.Loop)
        {
            Grow(record.DataPath, dataPath, currentData, data, host);
            FaultInjection.Step("data-grown");
            Grow(record.MetadataPath, metadataPath, currentMeta, meta, host);
            FaultInjection.Step("metadata-grown");
        }
        host.Progress($"Resizing thin pool '{name}'", "reloading the table", 60);
        SwapTable(record, newTarget, host);
        Registry.SavePool(record with { DataSize = data, MetadataSize = meta });
        FaultInjection.Step("record-written");
        host.Progress($"Resizing thin pool '{name}'", "done", 100, completed: true);
        return Get(name);
    }

    /// <summary>Loads a new table into the live pool and swaps it in (suspend, resume); never leaves the pool suspended.</summary>
    private void SwapTable(PoolRecord record, DmTarget target, IOperationHost host)
    {
        host.Verbose($"load table: {target}");
        dm.Load(record.DeviceName, new[] { target });
        FaultInjection.Step("table-loaded");
        host.Verbose($"suspend {record.DevicePath}");
        dm.Suspend(record.DeviceName);
        FaultInjection.Step("suspended");
        try
        {
            host.Verbose($"resume {record.DevicePath}");
            dm.Resume(record.DeviceName);
        }
        catch
        {
            // Try once more, the error of the first try wins.
            try { dm.Resume(record.DeviceName); } catch (DeviceMapperException) { }
            throw;
        }
        FaultInjection.Step("resumed");
    }

    private static void Grow(string file, string loop, long current, long wanted, IOperationHost host)
    {
        if (wanted > current)
        {
            host.Verbose($"grow {file} from {ByteSize.Format(current)} to {ByteSize.Format(wanted)}");
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite);
            RandomAccess.SetLength(handle, wanted);
            RandomAccess.FlushToDisk(handle);
        }
        // Also when the file grew earlier but the loop never learnt it (a resize killed in between).
        if ((long)BlockDevices.GetSize(loop) < Math.Max(wanted, current))
        {
            host.Verbose($"LOOP_SET_CAPACITY {loop}");
            LoopDevices.RefreshCapacity(loop);
        }
    }

    /// <summary>
    /// Only a command holding the pool's lock suspends the pool or its devices: one found suspended
    /// under that lock was left by a killed command, and is resumed. <paramref name="info"/> is the
    /// device's state when the caller has it already.
    /// </summary>
    internal void ResumeIfLeftSuspended(string deviceName, IOperationHost host, DeviceInfo? info = null)
    {
        if ((info ?? dm.GetInfo(deviceName)) is { Suspended: true })
        {
            host.Warning($"Resuming /dev/mapper/{deviceName}, left suspended by an interrupted command.");
            dm.Resume(deviceName);
        }
    }

    // ---------------------------------------------------------------- remove

    /// <summary>Deactivates a pool and forgets it. Backing files are deleted only when asked.</summary>
    public bool Remove(string name, bool deactivateVolumes, bool deleteBackingFiles, IOperationHost host)
    {
        var record = Require(name);
        if (record.Backing == PoolBacking.Lvm)
        {
            return new Lvm.LvmPoolService(this).Remove(record, deleteBackingFiles, host);
        }
        var users = IsActive(record) ? ThinDevicesOf(record) : Array.Empty<string>();
        if (users.Count > 0 && !deactivateVolumes)
        {
            throw new DmPowerShellException(ErrorIds.VolumesActive, ErrorKind.ResourceBusy,
                $"Pool '{name}' has active thin devices ({string.Join(", ", users)}); deactivate them first, or add -DeactivateVolumes.", name);
        }
        var plan = new StringBuilder();
        foreach (var user in users) plan.AppendLine($"remove device /dev/mapper/{user}");
        if (IsActive(record)) plan.AppendLine($"remove device {record.DevicePath} and detach its loop devices");
        if (record.Backing == PoolBacking.Loop)
        {
            plan.AppendLine(deleteBackingFiles
                ? $"delete {record.DataPath} and {record.MetadataPath} and the volumes' records (all data in the pool is lost)"
                : $"keep {record.DataPath} and {record.MetadataPath}");
        }
        plan.Append($"delete record {Path.Combine(Registry.PoolFolder(name), "pool.json")}");
        if (!host.ShouldProcess($"thin pool '{name}'", "Remove", plan.ToString()))
        {
            return false;
        }
        using var registryLock = Registry.LockRegistry();
        using (var poolLock = Registry.LockPool(name))
        {
            FaultInjection.Begin("pool-remove");
            ResumeIfLeftSuspended(record.DeviceName, host);
            Deactivate(record, deactivateVolumes, host);
            FaultInjection.Step("deactivated");
            if (deleteBackingFiles && record.Backing == PoolBacking.Loop)
            {
                foreach (var file in new[] { record.DataPath, record.MetadataPath })
                {
                    host.Verbose($"delete {file}");
                    DurableFile.Delete(file);
                }
                FaultInjection.Step("files-deleted");
            }
            host.Verbose($"delete the record of pool '{name}'");
            Registry.DeletePool(name);
            FaultInjection.Step("record-deleted");
            if (deleteBackingFiles)
            {
                // With the data gone, its volumes' records go too; otherwise they stay for re-adoption.
                Registry.DeletePoolFolder(name);
            }
        }
        Registry.DeletePoolFolderIfEmpty(name);
        return true;
    }

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
