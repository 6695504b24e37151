using System.Text;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Pools;

public sealed partial class PoolService
{
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
}
