using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Transactions;
using DmPowerShell.Units;

namespace DmPowerShell.Volumes;

public sealed partial class VolumeService
{
    public ThinVolume? Enable(string pool, string name, bool readOnly, IOperationHost host)
    {
        using var session = Open(pool);
        var plan = $"create device /dev/mapper/{Naming.VolumeDeviceName(pool, name)}{(readOnly ? " read-only" : "")}";
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Enable", plan))
        {
            return null;
        }
        session.Prepare(host);
        var record = session.Volumes.Find(name) ?? throw VolumeNotFound(pool, name);
        var info = dm.GetInfo(Naming.VolumeDeviceName(pool, name));
        if (info is null)
        {
            host.Verbose(session.ActivationText(record, readOnly, session.PoolDevice));
            session.Activate(record, readOnly);
        }
        else if (info.Uuid != Naming.VolumeUuid(session.Pool.Id, record.ThinId))
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists,
                $"Another device named '{info.Name}' (uuid '{info.Uuid}') is active; remove it before enabling '{name}'.", name);
        }
        if (!record.Active) session.Volumes.Save(record with { Active = true });
        return Describe(session.Pool, record, session.Volumes);
    }

    public bool Disable(string pool, string name, IOperationHost host)
    {
        using var session = Open(pool);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Disable", $"remove device /dev/mapper/{Naming.VolumeDeviceName(pool, name)}"))
        {
            return false;
        }
        session.Prepare(host);
        var record = session.Volumes.Find(name) ?? throw VolumeNotFound(pool, name);
        if (session.LiveDevice(record) is not null)
        {
            host.Verbose($"remove device /dev/mapper/{session.VolumeDeviceName(record)}");
            session.RemoveDevice(record);
        }
        if (record.Active) session.Volumes.Save(record with { Active = false });
        return true;
    }

    /// <summary>After the pool itself came up: the volumes recorded as active come back.</summary>
    internal void ActivateRecorded(PoolRecord pool, IOperationHost host)
    {
        using var session = Open(pool.Name).Prepare(host);
        foreach (var record in session.Volumes.List().Where(r => r.Active))
        {
            if (dm.GetInfo(session.VolumeDeviceName(record)) is null)
            {
                host.Verbose(session.ActivationText(record, record.ReadOnly, session.PoolDevice));
                session.Activate(record, record.ReadOnly);
            }
        }
    }

    public ThinVolume? Rename(string pool, string name, string newName, IOperationHost host)
    {
        using var session = Open(pool);
        CheckName(session.Pool, newName);
        var oldDevice = Naming.VolumeDeviceName(pool, name);
        var newDevice = Naming.VolumeDeviceName(pool, newName);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Rename", $"rename /dev/mapper/{oldDevice} to /dev/mapper/{newDevice} if active{Environment.NewLine}point the name '{newName}' at the record"))
        {
            return null;
        }
        session.Prepare(host);
        var record = session.Volumes.Find(name) ?? throw VolumeNotFound(pool, name);
        CheckNameFree(session, newName);
        if (session.LiveDevice(record) is not null)
        {
            host.Verbose($"rename /dev/mapper/{oldDevice} to /dev/mapper/{newDevice}");
            dm.Rename(oldDevice, newDevice);
        }
        var renamed = session.Volumes.Rename(record, newName);
        return Describe(session.Pool, renamed, session.Volumes);
    }

    public ThinVolume? Resize(string pool, string name, long size, bool growFileSystem, IOperationHost host)
    {
        using var session = Open(pool);
        CheckSize(size);
        var deviceName = Naming.VolumeDeviceName(pool, name);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Resize",
                $"load table: 0 {size / DmTarget.SectorSize} thin <pool major:minor> <id>; suspend and resume /dev/mapper/{deviceName}{(growFileSystem ? Environment.NewLine + "grow its file system" : "")}"))
        {
            return null;
        }
        session.Prepare(host);
        FaultInjection.Begin("resize");
        var record = session.Volumes.Find(name) ?? throw VolumeNotFound(pool, name);
        session.ResumeIfLeftSuspended(deviceName, host);
        if (size < record.Size)
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"'{name}' is {ByteSize.Format(record.Size)}; shrinking a thin volume would cut off its file system, so it is refused. Give a size of at least that.", name);
        }
        var active = session.LiveDevice(record) is not null;
        if (active)
        {
            var target = new ThinTable(session.PoolDevice.ToString(), new ThinId(record.ThinId)).ToTarget((ulong)size / DmTarget.SectorSize);
            host.Verbose($"load table: {target}");
            dm.Load(deviceName, new[] { target });
            FaultInjection.Step("table-loaded");
            host.Verbose($"suspend /dev/mapper/{deviceName}");
            dm.Suspend(deviceName);
            FaultInjection.Step("suspended");
            try
            {
                host.Verbose($"resume /dev/mapper/{deviceName}");
                dm.Resume(deviceName);
            }
            catch
            {
                // Try once more; the error of the first try wins.
                try { dm.Resume(deviceName); } catch (DeviceMapperException) { }
                throw;
            }
            FaultInjection.Step("resumed");
        }
        record = record with { Size = size };
        session.Volumes.Save(record);
        FaultInjection.Step("record-written");
        if (growFileSystem)
        {
            if (!active)
            {
                throw new DmPowerShellException(ErrorIds.PoolInactive, ErrorKind.InvalidState, $"'{name}' is not active: its file system cannot grow. Enable-ThinVolume it first.", name);
            }
            FileSystem.Grow($"/dev/mapper/{deviceName}", record.FileSystem, host);
        }
        return Describe(session.Pool, record, session.Volumes);
    }

    /// <summary>Deactivates and deletes a volume. Its snapshots stay intact.</summary>
    /// <param name="deferred">When the device is busy, let the kernel remove it once closed and delete the volume then.</param>
    public bool Remove(string pool, string name, IOperationHost host, bool deferred = false)
    {
        using var session = Open(pool);
        var record = session.Volumes.Find(name) ?? throw VolumeNotFound(pool, name);
        var transaction = new PoolTransaction(session, "remove") { Deleted = { record with { Active = false } } };
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Remove", transaction.Plan().Render()))
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
