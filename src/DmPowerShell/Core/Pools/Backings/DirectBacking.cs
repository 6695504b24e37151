using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Pools.Backings;

/// <summary>
/// The guide's direct-lvm without LVM: block devices the user gives for data and metadata. The
/// module zeroes the metadata superblock once and never detaches, grows or deletes the devices.
/// </summary>
public sealed class DirectBacking : OwnedBacking
{
    public DirectBacking(PoolService pools) : base(pools) { }

    public override PoolBacking Kind => PoolBacking.Direct;

    // A block device ends where it ends.
    public override (long Data, long Metadata)? GrowthLimits(PoolRecord record) =>
        ((long)BlockDevices.GetSize(record.DataPath), (long)BlockDevices.GetSize(record.MetadataPath));

    protected override (long Data, long Metadata) SizesFor(PoolSpec spec)
    {
        if (spec.DataDevice is null || spec.MetadataDevice is null)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSetting, "Direct mode needs both -DataDevice and -MetadataDevice.", spec.DataDevice ?? spec.MetadataDevice);
        }
        var data = DeviceChecks.RequireBlockDevice(spec.DataDevice);
        var metadata = DeviceChecks.RequireBlockDevice(spec.MetadataDevice);
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

    protected override (string Data, string Metadata) PathsFor(PoolSpec spec) => (Path.GetFullPath(spec.DataDevice!), Path.GetFullPath(spec.MetadataDevice!));

    protected override void CheckSpec(PoolSpec spec)
    {
        foreach (var device in new[] { spec.DataDevice!, spec.MetadataDevice! })
        {
            DeviceChecks.CheckDeviceFree(device, spec.Force);
        }
    }

    /// <summary>Zeroes the first metadata block, so the kernel formats fresh metadata.</summary>
    protected override void PlanStorage(Plan plan, PoolRecord record, List<string> created) =>
        plan.Add($"zero the metadata superblock on {record.MetadataPath} (first 4 KiB)", () =>
        {
            using var handle = File.OpenHandle(record.MetadataPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            RandomAccess.Write(handle, new byte[PoolSpec.MetadataBlockSize], 0);
            RandomAccess.FlushToDisk(handle);
        });

    protected override void PlanAttach(Plan plan, PoolRecord record, PoolDevices devices) =>
        plan.Add("", () =>
        {
            devices.Metadata = DeviceChecks.RequireBlockDevice(record.MetadataPath);
            devices.Data = DeviceChecks.RequireBlockDevice(record.DataPath);
            devices.DataBytes = (long)BlockDevices.GetSize(record.DataPath);
        });

    protected override string PlannedDevice(PoolRecord record, bool metadata)
    {
        var path = metadata ? record.MetadataPath : record.DataPath;
        return BlockDevices.IsBlockDevice(path) ? BlockDevices.GetDeviceNumber(path).ToString() : path;
    }

    protected override long DataBytes(PoolRecord record) =>
        BlockDevices.IsBlockDevice(record.DataPath) ? (long)BlockDevices.GetSize(record.DataPath) : record.DataSize;

    protected override (long Data, long Metadata) CurrentSizes(PoolRecord record) =>
        ((long)BlockDevices.GetSize(record.DataPath), (long)BlockDevices.GetSize(record.MetadataPath));

    /// <summary>The device already grew (lvextend, a bigger LUN): without a size, take its size.</summary>
    protected override long RequestedDataSize(PoolRecord record, long? requested, long current)
    {
        var data = requested ?? current - current % record.BlockSize;
        if (data > current)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSize, $"{record.DataPath} holds {ByteSize.Format(current)}; grow the device first, then resize the pool.", data);
        }
        return data;
    }

    /// <summary>Nothing to grow: the device grew before the resize was asked for.</summary>
    protected override void PlanGrow(Plan plan, PoolRecord record, ThinPoolTable table, (long Data, long Metadata) current, (long Data, long Metadata) wanted) { }

    protected override void PlanDetach(Plan plan, PoolRecord record, bool active, Func<ThinPoolTable?> table)
    {
        if (active) plan.Add("keep the block devices as they are", () => { });
    }

    protected override void PlanDelete(Plan plan, PoolRecord record, bool deleteBackingFiles) { }

    protected override void RollBackStorage(PoolRecord stale) { }

    // ---------------------------------------------------------------- metadata replacement: a spare device the user names

    /// <summary>
    /// A pool on block devices has no room beside its metadata for a spare, so the caller names one
    /// (LVM keeps a spare LV for this): a free block device at least as large as the metadata.
    /// </summary>
    public override void CheckSpare(PoolRecord record, string? spareDevice, bool force)
    {
        if (spareDevice is null)
        {
            throw new DmPowerShellException(ErrorIds.SpareDeviceRequired, ErrorKind.InvalidArgument,
                $"Pool '{record.Name}' is on block devices: name a free block device of at least {ByteSize.Format(record.MetadataSize)} with -SpareDevice to receive the new metadata ({record.MetadataPath} is kept as it is).", record.Name);
        }
        if (!BlockDevices.IsBlockDevice(spareDevice))
        {
            throw new DmPowerShellException(ErrorIds.DeviceNotFound, ErrorKind.NotFound, $"{spareDevice} is not a block device.", spareDevice);
        }
        var spare = BlockDevices.GetDeviceNumber(spareDevice);
        foreach (var used in new[] { record.DataPath, record.MetadataPath })
        {
            if (BlockDevices.IsBlockDevice(used) && BlockDevices.GetDeviceNumber(used).Equals(spare))
            {
                throw new DmPowerShellException(ErrorIds.SameDevice, ErrorKind.InvalidArgument, $"{spareDevice} is already a device of pool '{record.Name}' ({used}); the spare must be another one.", spareDevice);
            }
        }
        var size = (long)BlockDevices.GetSize(spareDevice);
        if (size < record.MetadataSize)
        {
            throw new DmPowerShellException(ErrorIds.InvalidSize, ErrorKind.InvalidArgument,
                $"{spareDevice} ({ByteSize.Format(size)}) is smaller than the metadata of pool '{record.Name}' ({ByteSize.Format(record.MetadataSize)}).", spareDevice);
        }
        DeviceChecks.CheckDeviceFree(spareDevice, force);
    }

    public override IReadOnlyList<string> DescribeMetadataReplacement(PoolRecord record, string? spareDevice, string write, string spareSuffix, string kept) => new[]
    {
        $"{write} -o {spareDevice}; thin_check {spareDevice}",
        $"record {spareDevice} as the pool's metadata device; {record.MetadataPath} keeps the {Adjective(kept)} metadata, unused",
    };

    public override void ReplaceMetadata(PoolRecord record, string? spareDevice, string spareSuffix, string kept, IOperationHost host,
        Func<string, ToolResult> write, Func<ToolResult, DmPowerShellException> failure)
    {
        var result = WriteAndCheck(spareDevice!, write);
        if (result.ExitCode != 0) throw failure(result);
        FaultInjection.Step("spare-written");
        host.Verbose($"record {spareDevice} as the metadata device of pool '{record.Name}'");
        Registry.SavePool(record with { MetadataPath = spareDevice!, MetadataSize = (long)BlockDevices.GetSize(spareDevice!) });
        host.Warning($"The {Adjective(kept)} metadata of pool '{record.Name}' stays on {record.MetadataPath}, which the pool no longer uses; its metadata device is now {spareDevice}.");
        FaultInjection.Step("swapped");
    }
}
