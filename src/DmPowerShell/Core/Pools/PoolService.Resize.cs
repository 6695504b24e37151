using System.Text;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Pools;

public sealed partial class PoolService
{
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
    /// under that lock was left by a killed command, and is resumed.
    /// </summary>
    internal void ResumeIfLeftSuspended(string deviceName, IOperationHost host) => ResumeIfLeftSuspended(dm, deviceName, host);

    /// <param name="info">The device's state when the caller has it already.</param>
    internal static void ResumeIfLeftSuspended(IDeviceMapper dm, string deviceName, IOperationHost host, DeviceInfo? info = null)
    {
        if ((info ?? dm.GetInfo(deviceName)) is { Suspended: true })
        {
            host.Warning($"Resuming /dev/mapper/{deviceName}, left suspended by an interrupted command.");
            dm.Resume(deviceName);
        }
    }
}
