using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Pools.Backings;

public abstract partial class OwnedBacking
{
    // The pool's own steps run under its lock; the volumes' activation takes that lock itself.
    private const string PoolPhase = Plan.Main, VolumesPhase = "volumes";

    /// <summary>Activates a recorded pool with the same devices and table, then the volumes recorded as active.</summary>
    public ThinPool? Enable(PoolRecord record, IOperationHost host)
    {
        using var devices = new PoolDevices();
        var plan = EnablePlan(record, devices, host);
        if (!host.ShouldProcess($"thin pool '{record.Name}'", "Enable", plan.Render()))
        {
            return null;
        }
        FaultInjection.Begin("pool-enable");
        using (Registry.LockPool(record.Name))
        {
            // Built again under the lock: another command may have enabled it meanwhile.
            EnablePlan(record, devices, host).Run(PoolPhase, host);
        }
        // The volume service takes the pool's lock itself (and finishes any interrupted change first).
        plan.Run(VolumesPhase, host);
        // Read again: the record may have followed storage that grew under an interrupted resize.
        return Pools.Describe(Registry.FindPool(record.Name) ?? record);
    }

    private Plan EnablePlan(PoolRecord record, PoolDevices devices, IOperationHost host)
    {
        var plan = new Plan();
        if (Pools.IsActive(record))
        {
            plan.Add(PoolPhase, $"{record.DevicePath} is active already", () => { });
        }
        else
        {
            plan.Add(PoolPhase, "", () =>
            {
                if (Dm.GetInfo(record.DeviceName) is { } other)
                {
                    throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists,
                        $"A different device-mapper device named '{record.DeviceName}' (uuid '{other.Uuid}') is active; remove it before enabling pool '{record.Name}'.", record.Name);
                }
            });
            PlanAttach(plan, record, devices);
            PlanDevice(plan, record, devices, "device-created");
            plan.Add(PoolPhase, "", () => RecordGrownStorage(record, devices, host));
        }
        plan.Add(VolumesPhase, "activate the volumes recorded as active", () => new Volumes.VolumeService(Pools, Dm).ActivateRecorded(record, host));
        return plan;
    }

    /// <summary>
    /// A Resize-ThinPool cut short (a kill or a power cut) after the storage grew leaves the record
    /// behind it; the pool just came up with the storage's size, so the record follows, with a warning.
    /// </summary>
    private void RecordGrownStorage(PoolRecord record, PoolDevices devices, IOperationHost host)
    {
        var data = (long)Sectors.ToBytes(Length(record, devices.DataBytes!.Value));
        var metadata = Math.Max(record.MetadataSize, CurrentSizes(record).Metadata);
        if (data <= record.DataSize && metadata == record.MetadataSize)
        {
            return;
        }
        // Read again under the pool's lock: the caller's copy may predate another command's change.
        var current = Registry.FindPool(record.Name) ?? record;
        var grown = current with { DataSize = Math.Max(data, record.DataSize), MetadataSize = metadata };
        host.Warning($"Pool '{record.Name}' came up with data {ByteSize.Format(grown.DataSize)} and metadata {ByteSize.Format(grown.MetadataSize)}, " +
            $"more than its record said ({ByteSize.Format(record.DataSize)}, {ByteSize.Format(record.MetadataSize)}): " +
            "a resize was cut short after the storage grew, or the storage grew outside the module. The record now says so.");
        Registry.SavePool(grown);
    }

    /// <summary>Deactivates a pool, keeping its files (or devices) and record.</summary>
    public bool Disable(PoolRecord record, bool deactivateVolumes, IOperationHost host)
    {
        if (!Pools.IsActive(record))
        {
            host.Verbose($"pool '{record.Name}' is not active");
            return true;
        }
        if (!host.ShouldProcess($"thin pool '{record.Name}'", "Disable", DeactivationPlan(record, deactivateVolumes, ", or add -DeactivateVolumes", host).Render()))
        {
            return false;
        }
        using var poolLock = Registry.LockPool(record.Name);
        FaultInjection.Begin("pool-disable");
        PoolService.ResumeIfLeftSuspended(Dm, record.DeviceName, host);
        DeactivationPlan(record, deactivateVolumes, "", host).Run(host);
        return true;
    }

    /// <summary>
    /// Removes the pool's thin devices, then the pool's device, then what the storage attached.
    /// Active thin devices are refused unless <paramref name="deactivateVolumes"/> (<paramref name="orFlag"/> ends the message).
    /// </summary>
    private Plan DeactivationPlan(PoolRecord record, bool deactivateVolumes, string orFlag, IOperationHost host)
    {
        var plan = new Plan();
        // One scan of the host's devices serves the refusal and the plan (each scan reads every table).
        var users = Pools.ThinDevicesOf(record);
        if (users.Count > 0 && !deactivateVolumes)
        {
            throw new DmPowerShellException(ErrorIds.VolumesActive, ErrorKind.ResourceBusy,
                $"Pool '{record.Name}' has active thin devices ({string.Join(", ", users)}); deactivate them first{orFlag}.", record.Name);
        }
        for (var i = 0; i < users.Count; i++)
        {
            var (user, index) = (users[i], i);
            plan.Add($"remove device /dev/mapper/{user}", () =>
            {
                if (users.Count > 1)
                {
                    host.Progress($"Deactivating the thin devices of pool '{record.Name}'", $"/dev/mapper/{user} ({index + 1} of {users.Count})", index * 100 / users.Count, completed: index == users.Count - 1);
                }
                RemoveDevice(user);
            });
        }
        plan.Add("", () => FaultInjection.Step("volumes-removed"));
        ThinPoolTable? last = null;
        var active = Pools.IsActive(record);
        if (active)
        {
            plan.Add($"remove device {record.DevicePath}", () =>
            {
                last = LiveTable(record);
                RemoveDevice(record.DeviceName);
                FaultInjection.Step("device-removed");
            });
        }
        PlanDetach(plan, record, active, () => last);
        return plan;
    }

    // ---------------------------------------------------------------- remove

    /// <summary>Deactivates a pool and forgets it. Backing files are deleted only when asked.</summary>
    public bool Remove(PoolRecord record, bool deactivateVolumes, bool deleteBackingFiles, IOperationHost host)
    {
        if (!host.ShouldProcess($"thin pool '{record.Name}'", "Remove", RemovalPlan(record, deactivateVolumes, ", or add -DeactivateVolumes", deleteBackingFiles, host).Render()))
        {
            return false;
        }
        using var registryLock = Registry.LockRegistry();
        using (var poolLock = Registry.LockPool(record.Name))
        {
            FaultInjection.Begin("pool-remove");
            PoolService.ResumeIfLeftSuspended(Dm, record.DeviceName, host);
            RemovalPlan(record, deactivateVolumes, "", deleteBackingFiles, host).Run(host);
        }
        Registry.DeletePoolFolderIfEmpty(record.Name);
        return true;
    }

    private Plan RemovalPlan(PoolRecord record, bool deactivateVolumes, string orFlag, bool deleteBackingFiles, IOperationHost host)
    {
        var plan = DeactivationPlan(record, deactivateVolumes, orFlag, host);
        plan.Add("", () => FaultInjection.Step("deactivated"));
        PlanDelete(plan, record, deleteBackingFiles);
        plan.Add($"delete record {Path.Combine(Registry.PoolFolder(record.Name), "pool.json")}", () =>
        {
            Registry.DeletePool(record.Name);
            FaultInjection.Step("record-deleted");
            if (deleteBackingFiles)
            {
                // With the data gone, its volumes' records go too; otherwise they stay for re-adoption.
                Registry.DeletePoolFolder(record.Name);
            }
        });
        return plan;
    }
}
