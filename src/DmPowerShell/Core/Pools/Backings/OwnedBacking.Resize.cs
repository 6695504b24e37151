using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Pools.Backings;

public abstract partial class OwnedBacking
{
    /// <summary>
    /// Set-ThinPool: changes the pool's policies in its record. A new no-space behaviour of an
    /// active pool is a table feature: the same table is reloaded with it (suspend, resume).
    /// </summary>
    public ThinPool? SetPolicies(PoolRecord record, PoolRecord updated, string changes, IOperationHost host)
    {
        var plan = new Plan();
        if (Pools.IsActive(record))
        {
            // The no-space behaviour and the low water mark (from the data threshold) are table parameters.
            var live = Dm.GetTable(record.DeviceName).Single();
            var table = ThinPoolTable.Parse(live.Parameters);
            var wanted = table with
            {
                NoSpacePolicy = updated.NoSpacePolicy,
                LowWaterMarkBlocks = updated.LowWaterMarkFor((ulong)(Sectors.ToBytes(live.LengthSectors) / record.BlockSize)),
            };
            if (wanted != table)
            {
                PlanSwap(plan, record, wanted.ToTarget(live.LengthSectors));
            }
        }
        plan.Add($"write {Path.Combine(Registry.PoolFolder(record.Name), "pool.json")}: {changes.Replace(Environment.NewLine, "; ")}", () => Registry.SavePool(updated));
        if (!host.ShouldProcess($"thin pool '{record.Name}'", "Set", plan.Render()))
        {
            return null;
        }
        using var poolLock = Registry.LockPool(record.Name);
        plan.Run(host);
        return Pools.Get(record.Name);
    }

    /// <summary>Grows the pool's data and/or metadata (the guide's procedure). Shrinking is refused.</summary>
    public ThinPool? Resize(PoolRecord record, PoolResize request, IOperationHost host)
    {
        var name = record.Name;
        if (request.PhysicalDevices.Count > 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSetting, $"-PhysicalDevice extends the volume group of an LVM pool; pool '{name}' is not one.", request.PhysicalDevices[0]);
        }
        if (!Pools.IsActive(record))
        {
            throw new DmPowerShellException(ErrorIds.PoolInactive, ErrorKind.InvalidState,
                $"Pool '{name}' is not active; Enable-ThinPool it first, then resize.", name);
        }
        var live = Dm.GetTable(record.DeviceName).Single();
        var table = ThinPoolTable.Parse(live.Parameters);
        var current = CurrentSizes(record);
        var data = RequestedDataSize(record, request.DataSize, current.Data);
        var meta = request.MetadataSize ?? current.Metadata;
        var liveData = Sectors.ToBytes(live.LengthSectors);
        if (data < liveData)
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"Pool '{name}' holds {ByteSize.Format(Math.Max(liveData, current.Data))} of data space; a thin pool cannot shrink. Give a size of at least that.", name);
        }
        if (meta < current.Metadata)
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"Pool '{name}' has {ByteSize.Format(current.Metadata)} of metadata; pool metadata cannot shrink. Give a size of at least that.", name);
        }
        if (data % record.BlockSize != 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSize, $"The data size {ByteSize.Format(data)} is not a multiple of the pool's block size {ByteSize.Format(record.BlockSize)}.", data);
        }
        if (request.MetadataSize is not null)
        {
            PoolRules.CheckMetadataSize(meta);
        }
        // The kernel's view of the metadata: a resize killed after growing the file left it behind.
        var status = ThinPoolStatus.Parse(Dm.GetStatus(record.DeviceName, noFlush: true).Single().Parameters);
        var wantedMetaBlocks = (ulong)Math.Min(meta, PoolSpec.MaxMetadataSize) / PoolSpec.MetadataBlockSize;
        var resized = record with { DataSize = data, MetadataSize = meta };
        if (data == liveData && meta == current.Metadata && status.TotalMetadataBlocks >= wantedMetaBlocks)
        {
            host.Verbose($"pool '{name}' already has that size");
            if (record.DataSize != data || record.MetadataSize != meta)
            {
                using var recordLock = Registry.LockPool(name);
                Registry.SavePool(resized);
            }
            return Pools.Get(name);
        }
        var plan = new Plan();
        plan.Add("", () =>
        {
            PoolService.ResumeIfLeftSuspended(Dm, record.DeviceName, host);
            host.Progress($"Resizing thin pool '{name}'", "growing the backing storage", 20);
        });
        PlanGrow(plan, record, table, current, (data, meta));
        plan.Add("", () => host.Progress($"Resizing thin pool '{name}'", "reloading the table", 60));
        PlanSwap(plan, record, (table with { LowWaterMarkBlocks = record.LowWaterMarkFor((ulong)(data / record.BlockSize)) }).ToTarget(Sectors.FromBytes(data)));
        plan.Add($"write the record of pool '{name}': data {ByteSize.Format(data)}, metadata {ByteSize.Format(meta)}", () =>
        {
            Registry.SavePool(resized);
            FaultInjection.Step("record-written");
        });
        if (!host.ShouldProcess($"thin pool '{name}'", "Resize", plan.Render()))
        {
            return null;
        }
        using var poolLock = Registry.LockPool(name);
        FaultInjection.Begin("pool-resize");
        plan.Run(host);
        host.Progress($"Resizing thin pool '{name}'", "done", 100, completed: true);
        return Pools.Get(name);
    }

    /// <summary>Loads a new table into the live pool and swaps it in (suspend, resume); never leaves the pool suspended.</summary>
    private void PlanSwap(Plan plan, PoolRecord record, DmTarget target)
    {
        plan.Add($"load table: {target}", () =>
        {
            Dm.Load(record.DeviceName, new[] { target });
            FaultInjection.Step("table-loaded");
        });
        plan.Add($"suspend {record.DevicePath}", () =>
        {
            Dm.Suspend(record.DeviceName);
            FaultInjection.Step("suspended");
        });
        plan.Add($"resume {record.DevicePath}", () =>
        {
            try
            {
                Dm.Resume(record.DeviceName);
            }
            catch
            {
                // Try once more, the error of the first try wins.
                try { Dm.Resume(record.DeviceName); } catch (DeviceMapperException) { }
                throw;
            }
            FaultInjection.Step("resumed");
        });
    }
}
