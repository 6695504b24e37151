using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Pools.Backings;

/// <summary>The guide's loop-lvm: sparse data and metadata files in the pool's folder, on auto-clearing loop devices.</summary>
public sealed class LoopBacking : OwnedBacking
{
    public LoopBacking(PoolService pools) : base(pools) { }

    public override PoolBacking Kind => PoolBacking.Loop;

    // A sparse file grows as far as the policy allows; metadata to the kernel's maximum.
    public override (long Data, long Metadata)? GrowthLimits(PoolRecord record) => (long.MaxValue, PoolSpec.MaxMetadataSize);

    public override long StoredSize(PoolRecord record, bool metadata) => new FileInfo(metadata ? record.MetadataPath : record.DataPath).Length;

    protected override (long Data, long Metadata) SizesFor(PoolSpec spec) =>
        (spec.DataSize ?? PoolSpec.DefaultDataSize, spec.MetadataSize ?? PoolSpec.DefaultMetadataSize);

    protected override (string Data, string Metadata) PathsFor(PoolSpec spec) =>
        (Path.Combine(Registry.PoolFolder(spec.Name), "data"), Path.Combine(Registry.PoolFolder(spec.Name), "metadata"));

    protected override void CheckFree(PoolRecord record, IOperationHost host)
    {
        foreach (var file in new[] { record.DataPath, record.MetadataPath })
        {
            if (File.Exists(file))
            {
                throw new DmPowerShellException(ErrorIds.BackingFileExists, ErrorKind.AlreadyExists,
                    $"The backing file {file} already exists (left by a pool removed without -DeleteBackingFiles?). Move or delete it, or choose another name; it is never overwritten.", file);
            }
        }
        var folder = Path.GetDirectoryName(record.DataPath)!;
        var existing = folder;
        while (!Directory.Exists(existing)) existing = Path.GetDirectoryName(existing)!;
        var drive = FileSystemSpace.Of(existing);
        if (drive.Total < record.DataSize + record.MetadataSize)
        {
            host.Warning($"The pool's sparse files ({ByteSize.Format(record.DataSize + record.MetadataSize)}) are larger than the file system that holds them ({ByteSize.Format(drive.Total)} at {existing}); writes will fail once it fills, whatever the pool says is free.");
        }
    }

    protected override void PlanStorage(Plan plan, PoolRecord record, List<string> created)
    {
        foreach (var (file, size, last) in new[] { (record.DataPath, record.DataSize, false), (record.MetadataPath, record.MetadataSize, true) })
        {
            plan.Add($"create sparse file {file} ({ByteSize.Format(size)}, mode 0600)", () =>
            {
                using (var stream = DurableFile.OpenPrivate(file, FileMode.CreateNew))
                {
                    created.Add(file);
                    stream.SetLength(size);
                    stream.Flush(flushToDisk: true);
                }
                if (last) FaultInjection.Step("files-created");
            });
        }
    }

    protected override void PlanAttach(Plan plan, PoolRecord record, PoolDevices devices)
    {
        plan.Add("", () =>
        {
            foreach (var file in new[] { record.DataPath, record.MetadataPath })
            {
                if (!File.Exists(file))
                {
                    throw new DmPowerShellException(ErrorIds.BackingFileMissing, ErrorKind.NotFound,
                        $"The backing file {file} of pool '{record.Name}' is missing; the pool cannot be activated. Restore the file, or remove the pool with Remove-ThinPool.", file);
                }
            }
        });
        foreach (var (file, metadata) in new[] { (record.DataPath, false), (record.MetadataPath, true) })
        {
            LoopAttachment? attached = null;
            var placeholder = metadata ? "/dev/loop<M>" : "/dev/loop<N>";
            plan.Add(() => $"attach {file} to {(attached is null ? placeholder : $"{attached.Device.Path} ({attached.Device.Device})")} (auto-clear)", () =>
            {
                // A loop already bound to the file (a crash between attach and create) is taken over.
                if (LoopDevices.FindByBackingFile(file) is { } existing)
                {
                    LoopDevices.Detach(existing.Path);
                }
                attached = LoopDevices.Attach(file);
                devices.Hold(attached);
                if (metadata)
                {
                    devices.Metadata = attached.Device.Device;
                    FaultInjection.Step("loops-attached");
                }
                else
                {
                    devices.Data = attached.Device.Device;
                    devices.DataBytes = new FileInfo(file).Length;
                }
            });
        }
    }

    protected override string PlannedDevice(PoolRecord record, bool metadata) => metadata ? "<metadata loop major:minor>" : "<data loop major:minor>";

    protected override long DataBytes(PoolRecord record) => File.Exists(record.DataPath) ? new FileInfo(record.DataPath).Length : record.DataSize;

    protected override (long Data, long Metadata) CurrentSizes(PoolRecord record) =>
        (new FileInfo(record.DataPath).Length, new FileInfo(record.MetadataPath).Length);

    protected override long RequestedDataSize(PoolRecord record, long? requested, long current)
    {
        if (requested < current)
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"Pool '{record.Name}' holds {ByteSize.Format(current)} of data space; a thin pool cannot shrink. Give a size of at least that.", record.Name);
        }
        return requested ?? current;
    }

    protected override void PlanGrow(Plan plan, PoolRecord record, ThinPoolTable table, (long Data, long Metadata) current, (long Data, long Metadata) wanted)
    {
        var spaces = new[]
        {
            (File: record.DataPath, Loop: PoolService.BlockDeviceName(table.DataDevice)!, Current: current.Data, Wanted: wanted.Data, CrashPoint: "data-grown"),
            (File: record.MetadataPath, Loop: PoolService.BlockDeviceName(table.MetadataDevice)!, Current: current.Metadata, Wanted: wanted.Metadata, CrashPoint: "metadata-grown"),
        };
        foreach (var space in spaces)
        {
            // Also when the file grew earlier but the loop never learnt it (a resize killed in between).
            bool LoopBehind() => (long)BlockDevices.GetSize(space.Loop) < Math.Max(space.Wanted, space.Current);
            plan.Add(() => space.Wanted > space.Current ? $"grow {space.File} from {ByteSize.Format(space.Current)} to {ByteSize.Format(space.Wanted)}; LOOP_SET_CAPACITY {space.Loop}"
                : LoopBehind() ? $"LOOP_SET_CAPACITY {space.Loop}" : "", () =>
            {
                if (space.Wanted > space.Current)
                {
                    using var handle = File.OpenHandle(space.File, FileMode.Open, FileAccess.ReadWrite);
                    RandomAccess.SetLength(handle, space.Wanted);
                    RandomAccess.FlushToDisk(handle);
                }
                if (LoopBehind())
                {
                    LoopDevices.RefreshCapacity(space.Loop);
                }
                FaultInjection.Step(space.CrashPoint);
            });
        }
    }

    protected override void PlanDetach(Plan plan, PoolRecord record, bool active, Func<ThinPoolTable?> table)
    {
        if (!active)
        {
            return;
        }
        plan.Add($"detach the loop devices of {record.DataPath} and {record.MetadataPath}", () =>
        {
            if (table() is not { } last) return;
            foreach (var device in new[] { last.DataDevice, last.MetadataDevice })
            {
                var path = PoolService.BlockDeviceName(device);
                if (path is not null && path.StartsWith("/dev/loop", StringComparison.Ordinal) && File.Exists($"/sys/dev/block/{device}/loop/backing_file"))
                {
                    LoopDevices.Detach(path);
                }
            }
        });
    }

    protected override void PlanDelete(Plan plan, PoolRecord record, bool deleteBackingFiles)
    {
        if (!deleteBackingFiles)
        {
            plan.Add($"keep {record.DataPath} and {record.MetadataPath}", () => { });
            return;
        }
        plan.Add($"delete {record.DataPath} and {record.MetadataPath} and the volumes' records (all data in the pool is lost)", () =>
        {
            DurableFile.Delete(record.DataPath);
            DurableFile.Delete(record.MetadataPath);
            FaultInjection.Step("files-deleted");
        });
    }

    protected override void RollBackStorage(PoolRecord stale)
    {
        foreach (var file in new[] { stale.DataPath, stale.MetadataPath })
        {
            if (LoopDevices.FindByBackingFile(file) is { } loop) LoopDevices.Detach(loop.Path);
            DurableFile.Delete(file);
        }
    }

    // ---------------------------------------------------------------- metadata replacement: a spare file beside the metadata

    public override void CheckSpare(PoolRecord record, string? spareDevice, bool force)
    {
        if (spareDevice is not null)
        {
            throw new DmPowerShellException(ErrorIds.InvalidSetting, ErrorKind.InvalidArgument,
                $"Pool '{record.Name}' is loop-backed: its new metadata goes to a spare file beside {record.MetadataPath}; -SpareDevice is for pools on block devices.", spareDevice);
        }
    }

    public override IReadOnlyList<string> DescribeMetadataReplacement(PoolRecord record, string? spareDevice, string write, string spareSuffix, string kept) => new[]
    {
        $"create sparse file {record.MetadataPath}{spareSuffix} ({ByteSize.Format(record.MetadataSize)}); {write} -o it (through a loop device); thin_check it",
        (File.Exists(record.MetadataPath) ? $"keep {record.MetadataPath} as {record.MetadataPath}.{kept}-<time>; " : "") + $"rename {record.MetadataPath}{spareSuffix} to {record.MetadataPath}",
    };

    public override void ReplaceMetadata(PoolRecord record, string? spareDevice, string spareSuffix, string kept, IOperationHost host,
        Func<string, ToolResult> write, Func<ToolResult, DmPowerShellException> failure)
    {
        var spare = record.MetadataPath + spareSuffix;
        using (var stream = DurableFile.OpenPrivate(spare, FileMode.Create))
        {
            stream.SetLength(record.MetadataSize);
        }
        using (var output = LoopDevices.Attach(spare))
        {
            var result = WriteAndCheck(output.Device.Path, write);
            if (result.ExitCode != 0)
            {
                File.Delete(spare);
                throw failure(result);
            }
        }
        FaultInjection.Step("spare-written");
        var stamp = $"{record.MetadataPath}.{kept}-{DateTimeOffset.UtcNow:yyyyMMddHHmmss}";
        var keptAs = stamp;
        for (var n = 2; File.Exists(keptAs); n++) keptAs = $"{stamp}-{n}";
        host.Verbose($"keep {record.MetadataPath} as {keptAs}; rename {spare} to {record.MetadataPath}");
        var existed = File.Exists(record.MetadataPath);
        DurableFile.ReplaceKeeping(record.MetadataPath, spare, keptAs);
        if (existed) host.Warning($"The {Adjective(kept)} metadata of pool '{record.Name}' is kept as {keptAs}.");
        FaultInjection.Step("swapped");
    }
}
