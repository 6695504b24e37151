using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Transactions;
using DmPowerShell.Units;

namespace DmPowerShell.Volumes;

public sealed partial class VolumeService
{
    // Each change below is built as a plan for -WhatIf and -Confirm before the pool's lock (only
    // when the host shows it, for removal), and again under it (after recovery), where it runs:
    // the second sees what another command changed.

    public ThinVolume? Enable(string pool, string name, bool readOnly, IOperationHost host)
    {
        using var session = Open(pool);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Enable", EnablePlan(session, name, readOnly, out _).Render()))
        {
            return null;
        }
        session.Prepare(host);
        EnablePlan(session, name, readOnly, out var record).Run(host);
        return Describe(session.Pool, record with { Active = true }, session.Volumes);
    }

    private Plan EnablePlan(PoolSession session, string name, bool readOnly, out VolumeRecord record)
    {
        var found = record = session.Volumes.Find(name) ?? throw VolumeNotFound(session.Pool.Name, name);
        var plan = new Plan();
        var info = dm.GetInfo(session.VolumeDeviceName(found));
        if (info is null)
        {
            plan.Add(() => session.ActivationText(found, readOnly, session.LivePoolDevice()), () => session.Activate(found, readOnly));
        }
        else if (info.Uuid != Naming.VolumeUuid(session.Pool.Id, found.ThinId))
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists,
                $"Another device named '{info.Name}' (uuid '{info.Uuid}') is active; remove it before enabling '{name}'.", name);
        }
        if (!found.Active)
        {
            plan.Add($"record '{name}' as active", () => session.Volumes.Save(found with { Active = true }));
        }
        return plan;
    }

    public bool Disable(string pool, string name, IOperationHost host)
    {
        using var session = Open(pool);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Disable", DisablePlan(session, name).Render()))
        {
            return false;
        }
        session.Prepare(host);
        DisablePlan(session, name).Run(host);
        return true;
    }

    private Plan DisablePlan(PoolSession session, string name)
    {
        var record = session.Volumes.Find(name) ?? throw VolumeNotFound(session.Pool.Name, name);
        var plan = new Plan();
        if (session.LiveDevice(record) is not null)
        {
            plan.Add($"remove device /dev/mapper/{session.VolumeDeviceName(record)}", () => session.RemoveDevice(record));
        }
        if (record.Active)
        {
            plan.Add($"record '{name}' as inactive", () => session.Volumes.Save(record with { Active = false }));
        }
        return plan;
    }

    /// <summary>
    /// After the pool itself came up: the volumes recorded as active come back. One the kernel
    /// refuses (its thin id gone from the metadata, as after a power cut that kept the metadata
    /// but lost the registry's last writes) is reported and left down; the others still come
    /// up, as `vgchange -ay` does, and Test-ThinPool says what to repair.
    /// </summary>
    internal void ActivateRecorded(PoolRecord pool, IOperationHost host)
    {
        // Opened before Prepare takes the lock: a Prepare that throws still releases it. A journal
        // the pool has moved past is left to Repair-ThinPool: the recorded volumes still come up
        // (a boot that stopped here would fail every fstab mount of the pool's volumes).
        using var session = Open(pool.Name, leaveJournalThePoolMovedPast: true);
        session.Prepare(host);
        var plan = new Plan();
        var records = session.Volumes.List();
        foreach (var record in records.Where(r => r.Active && dm.GetInfo(session.VolumeDeviceName(r)) is null))
        {
            plan.Add(session.ActivationText(record, record.ReadOnly, session.PoolDevice), () =>
            {
                try
                {
                    session.Activate(record, record.ReadOnly);
                }
                catch (DeviceMapperException e)
                {
                    host.Warning($"Volume '{record.Name}' (thin id {record.ThinId}) of pool '{pool.Name}' stays inactive: {e.Message} Test-ThinPool '{pool.Name}' tells what Repair-ThinPool would do.");
                }
            });
        }
        // A New-ThinVolume -FileSystem cut short during mkfs: the volume is new and nothing else
        // wrote to it (the command never returned), so its file system is made again.
        foreach (var record in records.Where(r => r.Formatting && r.FileSystem is not null && r.Active))
        {
            plan.Add($"finish mkfs.{record.FileSystem} /dev/mapper/{session.VolumeDeviceName(record)} (interrupted)", () =>
            {
                if (dm.GetInfo(session.VolumeDeviceName(record)) is null) return;
                host.Warning($"Making the {record.FileSystem} file system of '{record.Name}' in pool '{pool.Name}' again: its creation was cut short.");
                MakeFileSystem(session, record, record.FileSystem!, host);
            });
        }
        plan.Run(host);
    }

    public ThinVolume? Rename(string pool, string name, string newName, IOperationHost host)
    {
        using var session = Open(pool);
        CheckName(session.Pool, newName);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Rename", RenamePlan(session, name, newName, _ => { }).Render()))
        {
            return null;
        }
        session.Prepare(host);
        VolumeRecord? renamed = null;
        RenamePlan(session, name, newName, r => renamed = r).Run(host);
        return Describe(session.Pool, renamed!, session.Volumes);
    }

    private Plan RenamePlan(PoolSession session, string name, string newName, Action<VolumeRecord> renamed)
    {
        var record = session.Volumes.Find(name) ?? throw VolumeNotFound(session.Pool.Name, name);
        CheckNameFree(session, newName);
        var oldDevice = session.VolumeDeviceName(record);
        var newDevice = Naming.VolumeDeviceName(session.Pool.Name, newName);
        var plan = new Plan();
        if (session.LiveDevice(record) is not null)
        {
            plan.Add($"rename /dev/mapper/{oldDevice} to /dev/mapper/{newDevice}", () => dm.Rename(oldDevice, newDevice));
        }
        plan.Add($"point the name '{newName}' at the record of thin id {record.ThinId} (its device, when active: /dev/mapper/{newDevice})", () => renamed(session.Volumes.Rename(record, newName)));
        return plan;
    }

    public ThinVolume? Resize(string pool, string name, long size, bool growFileSystem, IOperationHost host)
    {
        using var session = Open(pool);
        CheckSize(size);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Resize", ResizePlan(session, name, size, growFileSystem, host, out _).Render()))
        {
            return null;
        }
        session.Prepare(host);
        FaultInjection.Begin("resize");
        session.ResumeIfLeftSuspended(Naming.VolumeDeviceName(pool, name), host);
        ResizePlan(session, name, size, growFileSystem, host, out var record).Run(host);
        return Describe(session.Pool, record with { Size = size }, session.Volumes);
    }

    private Plan ResizePlan(PoolSession session, string name, long size, bool growFileSystem, IOperationHost host, out VolumeRecord record)
    {
        var found = record = session.Volumes.Find(name) ?? throw VolumeNotFound(session.Pool.Name, name);
        if (size < found.Size)
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"'{name}' is {ByteSize.Format(found.Size)}; shrinking a thin volume would cut off its file system, so it is refused. Give a size of at least that.", name);
        }
        var deviceName = session.VolumeDeviceName(found);
        var active = session.LiveDevice(found) is not null;
        if (growFileSystem && !active)
        {
            throw new DmPowerShellException(ErrorIds.PoolInactive, ErrorKind.InvalidState, $"'{name}' is not active: its file system cannot grow. Enable-ThinVolume it first.", name);
        }
        var plan = new Plan();
        if (active)
        {
            var poolDevice = session.LivePoolDevice();
            var text = $"load table: 0 {Sectors.FromBytes(size)} thin {poolDevice?.ToString() ?? "<pool major:minor>"} {found.ThinId}";
            plan.Add(text, () =>
            {
                dm.Load(deviceName, new[] { new ThinTable(session.PoolDevice.ToString(), found.ThinId).ToTarget(Sectors.FromBytes(size)) });
                FaultInjection.Step("table-loaded");
            });
            plan.Add($"suspend /dev/mapper/{deviceName}", () =>
            {
                dm.Suspend(deviceName);
                FaultInjection.Step("suspended");
            });
            plan.Add($"resume /dev/mapper/{deviceName}", () =>
            {
                try
                {
                    dm.Resume(deviceName);
                }
                catch
                {
                    // Try once more; the error of the first try wins.
                    try { dm.Resume(deviceName); } catch (DeviceMapperException) { }
                    throw;
                }
                FaultInjection.Step("resumed");
            });
        }
        plan.Add($"write the record of '{name}': {ByteSize.Format(size)}", () =>
        {
            session.Volumes.Save(found with { Size = size });
            FaultInjection.Step("record-written");
        });
        if (growFileSystem)
        {
            plan.Add($"grow the {found.FileSystem ?? "file"} system on /dev/mapper/{deviceName}", () => FileSystem.Grow($"/dev/mapper/{deviceName}", found.FileSystem, host));
        }
        return plan;
    }

    /// <summary>Deactivates and deletes a volume. Its snapshots stay intact.</summary>
    /// <param name="deferred">When the device is busy, let the kernel remove it once closed and delete the volume then.</param>
    public bool Remove(string pool, string name, IOperationHost host, bool deferred = false)
    {
        using var session = Open(pool);
        var record = session.Volumes.Find(name) ?? throw VolumeNotFound(pool, name);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Remove",
                () => new PoolTransaction(session, "remove") { Deleted = { record with { Active = false } } }.Plan().Render()))
        {
            return false;
        }
        session.Prepare(host);
        FaultInjection.Begin("remove");
        record = session.Volumes.Find(name) ?? throw VolumeNotFound(pool, name);
        if (session.Volumes.IsPendingDeletion(record.ThinId))
        {
            throw new DmPowerShellException(ErrorIds.DeviceInUse, ErrorKind.ResourceBusy,
                $"'{name}' is already being removed: its device is still open, and it is deleted once that closes.", name);
        }
        try
        {
            new PoolTransaction(session, "remove") { Deleted = { record with { Active = false } } }.Run(host);
        }
        catch (DmPowerShellException e) when (e.ErrorId == ErrorIds.DeviceInUse && deferred)
        {
            // The transaction undid itself (nothing was sent): let the kernel remove the device when it closes.
            var device = session.VolumeDeviceName(record);
            host.Warning($"{e.Message} Removal deferred: the kernel removes /dev/mapper/{device} when it is closed, and the next command on pool '{pool}' then deletes the volume.");
            dm.Remove(device, deferred: true);
            session.Volumes.Save(record with { Active = false });
            session.Volumes.AddPendingDeletion(record.ThinId);
        }
        return true;
    }
}
