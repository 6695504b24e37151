using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Pools.Backings;

/// <summary>
/// A pool whose table, transaction id and thin ids the module owns (loop and direct mode): the
/// lifecycle they share, each change built once as a <see cref="Plan"/> that -WhatIf renders and
/// execution runs. What differs between files on loops and block devices are the storage steps
/// the subclasses add: prepare, attach, grow, detach, delete.
/// </summary>
public abstract partial class OwnedBacking : IPoolBacking
{
    protected OwnedBacking(PoolService pools)
    {
        Pools = pools;
    }

    protected PoolService Pools { get; }

    protected PoolRegistry Registry => Pools.Registry;

    protected IDeviceMapper Dm => Pools.DeviceMapper;

    public abstract PoolBacking Kind { get; }

    public PoolManager Manager => PoolManager.DmPowerShell;

    public string? LiveDeviceName(PoolRecord record) =>
        Dm.GetInfo(record.DeviceName) is { } info && info.Uuid == record.Uuid ? record.DeviceName : null;

    public bool Names(PoolRecord record, string deviceName) => deviceName == record.DeviceName;

    public void RequireOwnTable(PoolRecord record, string instead) { }

    public string? Monitoring(PoolRecord record) => null;

    public abstract (long Data, long Metadata)? GrowthLimits(PoolRecord record);

    public virtual long StoredSize(PoolRecord record, bool metadata) => 0;

    // ---------------------------------------------------------------- what the storage adds

    /// <summary>The data and metadata sizes a new pool gets.</summary>
    protected abstract (long Data, long Metadata) SizesFor(PoolSpec spec);

    /// <summary>Where a new pool's data and metadata go.</summary>
    protected abstract (string Data, string Metadata) PathsFor(PoolSpec spec);

    /// <summary>Refusals before anything is planned (devices in use, signatures).</summary>
    protected virtual void CheckSpec(PoolSpec spec) { }

    /// <summary>Refusals under the registry's lock, just before the creation starts (files in the way).</summary>
    protected virtual void CheckFree(PoolRecord record, IOperationHost host) { }

    /// <summary>Steps that make the storage of a new pool; what they create is added to <paramref name="created"/> for a rollback.</summary>
    protected abstract void PlanStorage(Plan plan, PoolRecord record, List<string> created);

    /// <summary>Steps that make the pool's two devices ready for its table, filling in <paramref name="devices"/>.</summary>
    protected abstract void PlanAttach(Plan plan, PoolRecord record, PoolDevices devices);

    /// <summary>How the table names a device before it is attached (-WhatIf).</summary>
    protected abstract string PlannedDevice(PoolRecord record, bool metadata);

    /// <summary>The data space the storage holds now.</summary>
    protected abstract long DataBytes(PoolRecord record);

    /// <summary>The current sizes of the storage, for a resize.</summary>
    protected abstract (long Data, long Metadata) CurrentSizes(PoolRecord record);

    /// <summary>The data size a resize asks for, checked against what the storage can hold.</summary>
    protected abstract long RequestedDataSize(PoolRecord record, long? requested, long current);

    /// <summary>Steps that grow the storage to the new sizes before the table is reloaded.</summary>
    protected abstract void PlanGrow(Plan plan, PoolRecord record, ThinPoolTable table, (long Data, long Metadata) current, (long Data, long Metadata) wanted);

    /// <summary>Steps after the pool's device is gone: <paramref name="table"/> gives its last table once removed.</summary>
    protected abstract void PlanDetach(Plan plan, PoolRecord record, bool active, Func<ThinPoolTable?> table);

    /// <summary>Remove-ThinPool: steps that delete (or say they keep) the storage.</summary>
    protected abstract void PlanDelete(Plan plan, PoolRecord record, bool deleteBackingFiles);

    /// <summary>Undoes the storage of a creation a killed process left unfinished.</summary>
    protected abstract void RollBackStorage(PoolRecord stale);

    // ---------------------------------------------------------------- shared steps

    /// <summary>create + load of the pool's device, with the devices the attach steps found.</summary>
    private void PlanDevice(Plan plan, PoolRecord record, PoolDevices devices, string crashPoint)
    {
        string Target() => devices.Metadata is { } metadata && devices.Data is { } data
            ? record.TableFor(metadata, data).ToTarget(Length(record, devices.DataBytes ?? DataBytes(record))).ToString()
            : record.TableFor(default, default).Describe(Length(record, DataBytes(record)), PlannedDevice(record, metadata: true), PlannedDevice(record, metadata: false));
        plan.Add(() => $"create device {record.DevicePath} uuid {record.Uuid}{Environment.NewLine}load table: {Target()}", () =>
        {
            var target = record.TableFor(devices.Metadata!.Value, devices.Data!.Value).ToTarget(Length(record, devices.DataBytes!.Value));
            Dm.Create(record.DeviceName, record.Uuid, new[] { target });
            FaultInjection.Step(crashPoint);
        });
    }

    /// <summary>A pool spans whole blocks: the tail of the data space under one block stays unused.</summary>
    private static ulong Length(PoolRecord record, long dataBytes)
    {
        var sectors = Sectors.FromBytes(dataBytes);
        return sectors - sectors % Sectors.FromBytes(record.BlockSize);
    }

    private void RemoveDevice(string name)
    {
        try
        {
            Dm.Remove(name);
        }
        catch (DeviceBusyException e)
        {
            throw Pools.Busy(name, e);
        }
    }

    private ThinPoolTable LiveTable(PoolRecord record) => ThinPoolTable.Parse(Dm.GetTable(record.DeviceName).Single().Parameters);

    // ---------------------------------------------------------------- metadata replacement

    public abstract void CheckSpare(PoolRecord record, string? spareDevice, bool force);

    public abstract IReadOnlyList<string> DescribeMetadataReplacement(PoolRecord record, string? spareDevice, string write, string spareSuffix, string kept);

    public abstract void ReplaceMetadata(PoolRecord record, string? spareDevice, string spareSuffix, string kept, IOperationHost host,
        Func<string, ToolResult> write, Func<ToolResult, DmPowerShellException> failure);

    /// <summary>thin_check of a freshly written spare; once clean, the needs_check flag the tools carry over is cleared (LVM's thin_check_options).</summary>
    protected static ToolResult WriteAndCheck(string device, Func<string, ToolResult> write)
    {
        var result = write(device);
        return result.ExitCode == 0 ? ExternalTool.Run("thin_check", new[] { "--clear-needs-check-flag", device }) : result;
    }

    protected static string Adjective(string kept) => kept == "damaged" ? "damaged" : "previous";
}
