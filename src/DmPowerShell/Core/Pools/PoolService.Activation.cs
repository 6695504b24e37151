using System.Text;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;

namespace DmPowerShell.Pools;

public sealed partial class PoolService
{
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
}
