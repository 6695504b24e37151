using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Health;

public sealed partial class PoolHealthService
{
    /// <summary>
    /// A pool whose record is lost but whose device is live (UUID DMPS-&lt;id&gt;-pool): its record
    /// is rebuilt from the table. LVM's pools are left to LVM.
    /// </summary>
    private PoolRecord? Rebuild(string name, IOperationHost host, List<PoolRepair> done)
    {
        var deviceName = Naming.PoolDeviceName(name);
        var info = dm.GetInfo(deviceName) ?? throw pools.NotFound(name);
        if (info.Uuid is { } lvm && lvm.StartsWith("LVM-", StringComparison.Ordinal))
        {
            throw new DmPowerShellException(ErrorIds.PoolNotOwned, ErrorKind.InvalidState,
                $"'{name}' is a thin pool that LVM manages; repair it with LVM: lvconvert --repair <vg>/<pool>.", name);
        }
        if (info.Uuid is not { } uuid || !uuid.StartsWith(Naming.UuidPrefix, StringComparison.Ordinal) || !uuid.EndsWith("-pool", StringComparison.Ordinal))
        {
            throw new DmPowerShellException(ErrorIds.PoolNotOwned, ErrorKind.InvalidState,
                $"'{name}' was not made by this module (uuid '{info.Uuid}'); it is left alone.", name);
        }
        var id = uuid[Naming.UuidPrefix.Length..^"-pool".Length];
        var target = dm.GetTable(deviceName).Single();
        var table = ThinPoolTable.Parse(target.Parameters);
        string Backing(string device, out bool loop)
        {
            var backing = $"/sys/dev/block/{device}/loop/backing_file";
            loop = File.Exists(backing);
            return loop ? File.ReadAllText(backing).Trim() : PoolService.BlockDeviceName(device) ?? device;
        }
        var dataPath = Backing(table.DataDevice, out var dataIsLoop);
        var metadataPath = Backing(table.MetadataDevice, out _);
        var record = new PoolRecord
        {
            Name = name,
            Id = id,
            State = RecordState.Ready,
            Backing = dataIsLoop ? PoolBacking.Loop : PoolBacking.Direct,
            DataPath = dataPath,
            MetadataPath = metadataPath,
            DataSize = (long)target.LengthSectors * DmTarget.SectorSize,
            MetadataSize = (long)BlockDevices.GetSize(PoolService.BlockDeviceName(table.MetadataDevice) ?? table.MetadataDevice),
            BlockSize = (long)table.BlockSizeBytes,
            LowWaterMarkBlocks = table.LowWaterMarkBlocks,
            SkipBlockZeroing = table.SkipBlockZeroing,
            DiscardMode = table.DiscardMode,
            NoSpacePolicy = table.NoSpacePolicy,
            Created = DateTimeOffset.UtcNow,
        };
        var plan = $"write {Path.Combine(pools.Registry.PoolFolder(name), "pool.json")}: pool '{name}' ({record.Backing}, data {dataPath}, metadata {metadataPath}, {ByteSize.Format(record.DataSize)}), from the table of {info.Name}";
        var ok = host.ShouldProcess($"pool '{name}'", "Rebuild record", plan);
        done.Add(new PoolRepair(name, ProblemKind.UnrecordedDevice, null, name, $"rebuild the record of pool '{name}' from its live table", ok));
        if (!ok) return null;
        pools.Registry.EnsureWritableRoot();
        using (pools.Registry.LockRegistry())
        {
            pools.Registry.SavePool(record);
        }
        return record;
    }

    private static string RepairMetadataPlan(PoolRecord record, string? spareDevice) => string.Join(Environment.NewLine, new[]
    {
        $"deactivate the thin volumes of pool '{record.Name}' and the pool",
        record.Backing == PoolBacking.Direct
            ? $"thin_repair -i {record.MetadataPath} -o {spareDevice}; thin_check {spareDevice}"
            : $"create sparse file {record.MetadataPath}.repaired ({ByteSize.Format(record.MetadataSize)}); thin_repair -i {record.MetadataPath} -o it (through loop devices); thin_check it",
        record.Backing == PoolBacking.Direct
            ? $"record {spareDevice} as the pool's metadata device; {record.MetadataPath} keeps the damaged metadata, unused"
            : $"keep {record.MetadataPath} as {record.MetadataPath}.damaged-<time>; rename the repaired copy to {record.MetadataPath}",
        $"activate pool '{record.Name}' and the volumes recorded as active",
    });

    /// <summary>
    /// A pool on block devices has no room beside its metadata for a spare, so the caller names one
    /// (LVM keeps a spare LV for this). It must be a free block device at least as large as the
    /// metadata; loop-backed pools use a spare file and take no device.
    /// </summary>
    internal static void CheckSpareDevice(PoolRecord record, string? spareDevice, bool force)
    {
        if (record.Backing == PoolBacking.Loop)
        {
            if (spareDevice is not null)
            {
                throw new DmPowerShellException(ErrorIds.InvalidSetting, ErrorKind.InvalidArgument,
                    $"Pool '{record.Name}' is loop-backed: its new metadata goes to a spare file beside {record.MetadataPath}; -SpareDevice is for pools on block devices.", spareDevice);
            }
            return;
        }
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
        PoolService.CheckDeviceFree(spareDevice, force);
    }

    /// <summary>
    /// LVM's way of replacing a pool's metadata (repair, restore): <paramref name="write"/> fills a
    /// spare, thin_check checks it, and only then does the pool take it. A loop-backed pool's spare
    /// is a file beside the metadata file, renamed over it, the previous content kept as
    /// metadata.&lt;kept&gt;-&lt;time&gt;; a pool on block devices records the spare device as its metadata
    /// device and leaves the old one untouched. On failure nothing else has changed.
    /// </summary>
    internal static void ReplaceMetadata(PoolRegistry registry, PoolRecord record, string? spareDevice, string spareSuffix, string kept, IOperationHost host,
        Func<string, ToolResult> write, Func<ToolResult, DmPowerShellException> failure)
    {
        ToolResult WriteAndCheck(string device)
        {
            var result = write(device);
            // thin_repair and thin_restore carry the needs_check flag over; once the copy checks clean
            // it is cleared, as LVM's thin_check_options do, or the pool would come up read-only again.
            return result.ExitCode == 0 ? ExternalTool.Run("thin_check", new[] { "--clear-needs-check-flag", device }) : result;
        }
        var adjective = kept == "damaged" ? "damaged" : "previous";
        if (record.Backing == PoolBacking.Direct)
        {
            var result = WriteAndCheck(spareDevice!);
            if (result.ExitCode != 0) throw failure(result);
            FaultInjection.Step("spare-written");
            var updated = record with { MetadataPath = spareDevice!, MetadataSize = (long)BlockDevices.GetSize(spareDevice!) };
            host.Verbose($"record {spareDevice} as the metadata device of pool '{record.Name}'");
            registry.SavePool(updated);
            host.Warning($"The {adjective} metadata of pool '{record.Name}' stays on {record.MetadataPath}, which the pool no longer uses; its metadata device is now {spareDevice}.");
            FaultInjection.Step("swapped");
            return;
        }
        var spare = record.MetadataPath + spareSuffix;
        using (var stream = DurableFile.OpenPrivate(spare, FileMode.Create))
        {
            stream.SetLength(record.MetadataSize);
        }
        using (var output = LoopDevices.Attach(spare))
        {
            var result = WriteAndCheck(output.Device.Path);
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
        if (existed) host.Warning($"The {adjective} metadata of pool '{record.Name}' is kept as {keptAs}.");
        FaultInjection.Step("swapped");
    }

    /// <summary>LVM's way: repair into a spare, check the spare, swap, keep the original.</summary>
    private void RepairMetadata(PoolRecord record, string? spareDevice, IOperationHost host)
    {
        var wereActive = ReadRepairMarker(record.Name)
            ?? new VolumeStore(pools.Registry, record.Name).List().Where(v => v.Active).Select(v => v.Name).ToList();
        DurableFile.Write(RepairMarker(record.Name), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(wereActive));
        if (pools.IsActive(record))
        {
            pools.Disable(record.Name, deactivateVolumes: true, host);
        }
        FaultInjection.Begin("repair-metadata");
        FaultInjection.Step("pool-offline");
        using (pools.Registry.LockPool(record.Name))
        using (var input = OpenReadOnly(record.MetadataPath))
        {
            ReplaceMetadata(pools.Registry, record, spareDevice, ".repaired", "damaged", host, output =>
            {
                host.Verbose($"thin_repair -i {input.Path} -o {output}");
                return ExternalTool.Run("thin_repair", new[] { "-i", input.Path, "-o", output });
            }, failed => failed.Program == "thin_check"
                ? new DmPowerShellException(ErrorIds.MetadataUnreadable, ErrorKind.OperationFailed,
                    $"The repaired metadata of pool '{record.Name}' still fails thin_check: {failed.Error.Trim()}. The original is untouched.", record.Name)
                : new DmPowerShellException(ErrorIds.MetadataUnreadable, ErrorKind.OperationFailed,
                    $"thin_repair could not repair the metadata of pool '{record.Name}' (exit {failed.ExitCode}): {failed.Error.Trim()}. The original is untouched.", record.Name));
        }
        FinishRepair(pools.Require(record.Name), wereActive, host);
    }
}
