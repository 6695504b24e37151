using System.Globalization;
using System.Text.RegularExpressions;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;
using DmPowerShell.Volumes;

namespace DmPowerShell.Health;

/// <summary>One fix Repair-ThinPool made (or, under -WhatIf, would have made).</summary>
public sealed record PoolRepair(string Pool, ProblemKind Kind, uint? ThinId, string? Name, string Action, bool Done);

/// <summary>
/// Test-ThinPool and Repair-ThinPool: gathers the registry, the live devices and the pool's own
/// metadata (read through a metadata snapshot, always released), compares them, and fixes what
/// disagrees. Repairs adopt what they find; data is deleted only when asked, and only thin ids
/// this module handed out.
/// </summary>
public sealed partial class PoolHealthService
{
    private readonly PoolService pools;
    private readonly DeviceMapperClient dm;

    public PoolHealthService(PoolService pools, DeviceMapperClient? client = null)
    {
        this.pools = pools;
        dm = client ?? DeviceMapperClient.Shared;
    }

    public IReadOnlyList<PoolProblem> Test(string name)
    {
        var record = pools.Require(name);
        PoolService.RefuseLvm(record, "LVM checks it: lvs, vgck, and thin_check on its _tmeta.");
        return PoolInspection.Compare(Gather(record));
    }

    /// <summary>Reads the three views. The pool's lock keeps the module's own commands out meanwhile.</summary>
    public PoolViews Gather(PoolRecord record)
    {
        using var poolLock = pools.Registry.LockPool(record.Name);
        var store = new VolumeStore(pools.Registry, record.Name);
        var active = pools.IsActive(record);
        var views = new PoolViews
        {
            Pool = record,
            Records = store.List(),
            PendingDeletions = store.PendingDeletions(),
            Journal = store.ReadJournal(),
            Active = active,
            InterruptedRepair = ReadRepairMarker(record.Name),
        };
        if (!active)
        {
            var (metadata, failure, needsCheck) = ReadAtRest(record);
            return views with { Metadata = metadata, MetadataCheckFailure = failure, NeedsCheckAtRest = needsCheck };
        }
        var status = ThinPoolStatus.Parse(dm.GetStatus(record.DeviceName, noFlush: true).Single().Parameters);
        var live = LiveDevices(record);
        var canSnapshot = status.Health == TargetHealth.Ok && status.Mode != PoolMode.ReadOnly;
        return views with { Status = status, LiveDevices = live, Metadata = canSnapshot ? ReadLive(record) : null };
    }

    private IReadOnlyList<LiveThinDevice> LiveDevices(PoolRecord record)
    {
        var info = dm.GetInfo(record.DeviceName)!;
        var result = new List<LiveThinDevice>();
        foreach (var (name, length) in pools.ThinDevicesOf(info.Device))
        {
            var uuid = dm.GetInfo(name)?.Uuid;
            uint? id = null;
            try
            {
                id = ThinTable.Parse(dm.GetTable(name).Single().Parameters).DeviceId.Value;
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or DeviceNotFoundException)
            {
                // Not a plain thin table, or gone meanwhile: listed without an id.
            }
            result.Add(new LiveThinDevice(name, uuid, id, Naming.VolumeNameFromDevice(record.Name, name), length));
        }
        return result;
    }

    /// <summary>The live pool's metadata: reserve a metadata snapshot, thin_dump it, release it (always).</summary>
    private PoolMetadata ReadLive(PoolRecord record, uint? deviceWithMappings = null) =>
        WithMetadataSnapshot(record, null, device => Dump(device, metadataSnapshot: true, deviceWithMappings));

    /// <summary>Runs <paramref name="read"/> on the live pool's metadata device while a metadata snapshot is held; releases it always.</summary>
    internal T WithMetadataSnapshot<T>(PoolRecord record, IOperationHost? host, Func<string, T> read)
    {
        var table = ThinPoolTable.Parse(dm.GetTable(record.DeviceName).Single().Parameters);
        var metadataDevice = PoolService.BlockDeviceName(table.MetadataDevice) ?? throw new DmPowerShellException(ErrorIds.DeviceNotFound, ErrorKind.NotFound,
            $"The metadata device {table.MetadataDevice} of pool '{record.Name}' has no node in /dev.", record.Name);
        // A held snapshot under the pool's lock is one a killed command of ours left: the kernel
        // holds one at most, so it is released before taking ours.
        if (ThinPoolStatus.Parse(dm.GetStatus(record.DeviceName, noFlush: true).Single().Parameters).HeldMetadataRoot is not null)
        {
            host?.Verbose($"message {record.DevicePath} 0 release_metadata_snap (left held by an interrupted command)");
            dm.SendMessage(record.DeviceName, PoolMessage.ReleaseMetadataSnapshot());
        }
        host?.Verbose($"message {record.DevicePath} 0 reserve_metadata_snap");
        dm.SendMessage(record.DeviceName, PoolMessage.ReserveMetadataSnapshot());
        try
        {
            FaultInjection.Step("snapshot-reserved");
            return read(metadataDevice);
        }
        finally
        {
            host?.Verbose($"message {record.DevicePath} 0 release_metadata_snap");
            dm.SendMessage(record.DeviceName, PoolMessage.ReleaseMetadataSnapshot());
        }
    }

    /// <summary>An inactive pool's metadata, checked by thin_check and read by thin_dump through a read-only loop.</summary>
    private static (PoolMetadata? Metadata, string? Failure, bool NeedsCheck) ReadAtRest(PoolRecord record)
    {
        using var device = OpenReadOnly(record.MetadataPath);
        var check = ExternalTool.Run("thin_check", new[] { device.Path });
        if (check.ExitCode != 0)
        {
            return (null, (check.Error + check.Output).Trim(), false);
        }
        return (Dump(device.Path, metadataSnapshot: false, null), null, NeedsCheckFlag(device.Path));
    }

    /// <summary>
    /// The kernel's needs_check verdict persists in the superblock's flags (bit 0 of the word after
    /// the checksum); thin_check accepts it, so an inactive pool's flag is read directly.
    /// </summary>
    private static bool NeedsCheckFlag(string device)
    {
        using var stream = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Span<byte> head = stackalloc byte[8];
        stream.ReadExactly(head);
        return (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(head[4..]) & 1) != 0;
    }

    /// <summary>thin_dump reads with O_DIRECT, which some file systems refuse: a file is read through a read-only loop device.</summary>
    internal static ReadOnlyDevice OpenReadOnly(string path)
    {
        if (BlockDevices.IsBlockDevice(path))
        {
            return new ReadOnlyDevice(path, null);
        }
        var loop = LoopDevices.Attach(path, readOnly: true);
        return new ReadOnlyDevice(loop.Device.Path, loop);
    }

    internal sealed class ReadOnlyDevice : IDisposable
    {
        private readonly LoopAttachment? loop;

        public ReadOnlyDevice(string path, LoopAttachment? loop)
        {
            Path = path;
            this.loop = loop;
        }

        public string Path { get; }

        public void Dispose()
        {
            if (loop is null) return;
            var path = loop.Device.Path;
            loop.Dispose();
            // Auto-clear detaches it once closed; clear it explicitly too, in case it is still bound.
            try { LoopDevices.Detach(path); } catch (NativeCallException) { }
        }
    }

    private static PoolMetadata Dump(string device, bool metadataSnapshot, uint? deviceWithMappings)
    {
        var options = deviceWithMappings is { } id ? new[] { "--dev-id", id.ToString(CultureInfo.InvariantCulture) } : new[] { "--skip-mappings" };
        var xml = ThinDump(device, metadataSnapshot, options);
        var metadata = PoolMetadata.ParseXml(xml);
        return deviceWithMappings is null ? metadata : metadata with { HighestMappedBlock = HighestMappedBlock(xml) };
    }

    /// <summary>thin_dump's XML of the metadata on <paramref name="device"/> (of its held snapshot with <paramref name="metadataSnapshot"/>).</summary>
    internal static string ThinDump(string device, bool metadataSnapshot, params string[] options)
    {
        var arguments = new List<string>();
        if (metadataSnapshot) arguments.Add("--metadata-snap");
        arguments.AddRange(options);
        arguments.Add(device);
        var result = ExternalTool.Run("thin_dump", arguments);
        if (result.ExitCode != 0)
        {
            throw new DmPowerShellException(ErrorIds.MetadataUnreadable, ErrorKind.OperationFailed,
                $"thin_dump could not read the metadata on {device} (exit {result.ExitCode}): {result.Error.Trim()}", device);
        }
        return result.Output;
    }

    /// <summary>The highest virtual block a device's mappings reach, from thin_dump's single and range mappings.</summary>
    internal static ulong? HighestMappedBlock(string xml)
    {
        ulong? highest = null;
        foreach (Match m in MappingPattern().Matches(xml))
        {
            var begin = ulong.Parse(m.Groups["begin"].Value, CultureInfo.InvariantCulture);
            var end = m.Groups["length"].Success ? begin + ulong.Parse(m.Groups["length"].Value, CultureInfo.InvariantCulture) - 1 : begin;
            highest = highest is null || end > highest ? end : highest;
        }
        return highest;
    }

    [GeneratedRegex("<(?:single_mapping origin_block=\"(?<begin>\\d+)\"|range_mapping origin_begin=\"(?<begin>\\d+)\"[^>]*?length=\"(?<length>\\d+)\")")]
    private static partial Regex MappingPattern();
}

public sealed partial class PoolHealthService
{
    private static readonly ProblemKind[] MetadataProblems = { ProblemKind.MetadataDamaged, ProblemKind.NeedsCheck, ProblemKind.Failed };

    /// <summary>
    /// Written before a metadata repair takes the pool offline, deleted once it is back: a repair
    /// killed in between is finished by the next Repair-ThinPool, volumes included.
    /// </summary>
    private string RepairMarker(string pool) => Path.Combine(pools.Registry.PoolFolder(pool), "repair.json");

    private IReadOnlyList<string>? ReadRepairMarker(string pool)
    {
        var marker = RepairMarker(pool);
        return File.Exists(marker) ? System.Text.Json.JsonSerializer.Deserialize<string[]>(File.ReadAllBytes(marker)) ?? Array.Empty<string>() : null;
    }

    /// <summary>Brings the pool and the volumes it had active back, then forgets the repair.</summary>
    private void FinishRepair(PoolRecord record, IReadOnlyList<string> wereActive, IOperationHost host)
    {
        var volumes = new VolumeService(pools, dm);
        if (!pools.IsActive(record)) pools.Enable(record.Name, host);
        foreach (var volume in wereActive)
        {
            try
            {
                if (!volumes.Get(record.Name, volume).Active) volumes.Enable(record.Name, volume, readOnly: false, host);
            }
            catch (DmPowerShellException e) { host.Warning($"Volume '{volume}' could not be activated after the repair: {e.Message}"); }
        }
        DurableFile.Delete(RepairMarker(record.Name));
    }

    /// <summary>
    /// Fixes what Test-ThinPool finds, one permission per fix. A pool with no record but a live
    /// device of the module's (DMPS- UUID) gets its record rebuilt from the kernel first.
    /// </summary>
    public IReadOnlyList<PoolRepair> Repair(string name, bool deleteUnrecorded, IOperationHost host, string? spareDevice = null, bool force = false)
    {
        var done = new List<PoolRepair>();
        var record = pools.Registry.FindPool(name) ?? Rebuild(name, host, done);
        if (record is null)
        {
            return done;
        }
        PoolService.RefuseLvm(record, "LVM repairs it: lvconvert --repair.");
        if (spareDevice is not null) CheckSpareDevice(record, spareDevice, force);
        // One reading of the views serves the comparison and the fixes; a fix that changes them reads again.
        var views = Gather(record);
        var problems = PoolInspection.Compare(views);
        // An interrupted repair is finished first when the metadata at rest is sound: the pool it
        // brings back may then show the kernel's needs_check, which the metadata repair takes.
        if (!problems.Any(p => MetadataProblems.Contains(p.Kind)) && problems.FirstOrDefault(p => p.Kind == ProblemKind.UnfinishedRepair) is { } interrupted)
        {
            var ok = host.ShouldProcess($"pool '{name}'", "Finish repair", interrupted.Repair!);
            if (ok) FinishRepair(record, views.InterruptedRepair!, host);
            done.Add(new PoolRepair(name, interrupted.Kind, null, null, interrupted.Repair!, ok));
            if (!ok) return done;
            views = Gather(record);
            problems = PoolInspection.Compare(views);
        }
        if (problems.FirstOrDefault(p => MetadataProblems.Contains(p.Kind)) is { } damaged)
        {
            var action = $"take pool '{name}' offline, thin_repair its metadata into a spare {(record.Backing == PoolBacking.Direct ? "device" : "file")} and use the repaired copy, keeping the original";
            // A given spare was checked above; a missing one is refused here, before anything changes.
            if (spareDevice is null) CheckSpareDevice(record, spareDevice, force);
            var ok = host.ShouldProcess($"pool '{name}'", "Repair metadata", RepairMetadataPlan(record, spareDevice));
            if (ok) RepairMetadata(record, spareDevice, host);
            done.Add(new PoolRepair(name, damaged.Kind, null, null, action, ok));
            if (!ok) return done;
            record = pools.Require(name);
            views = Gather(record);
            problems = PoolInspection.Compare(views);
        }
        if (problems.FirstOrDefault(p => p.Kind == ProblemKind.UnfinishedTransaction) is { } unfinished)
        {
            var ok = host.ShouldProcess($"pool '{name}'", "Recover", unfinished.Description + Environment.NewLine + unfinished.Repair);
            if (ok) new VolumeService(pools, dm).Recover(name, host);
            done.Add(new PoolRepair(name, unfinished.Kind, null, null, unfinished.Repair!, ok));
            if (ok)
            {
                views = Gather(record);
                problems = PoolInspection.Compare(views);
            }
        }
        var store = new VolumeStore(pools.Registry, name);
        foreach (var problem in problems.Where(p => p.Repairable && !MetadataProblems.Contains(p.Kind) && p.Kind is not (ProblemKind.UnfinishedTransaction or ProblemKind.UnfinishedRepair)))
        {
            switch (problem.Kind)
            {
                case ProblemKind.UnrecordedThinId when deleteUnrecorded:
                    done.Add(DeleteUnrecorded(record, store, views, problem, host));
                    break;
                case ProblemKind.UnrecordedThinId:
                    done.Add(Adopt(record, store, views, problem, host));
                    break;
                case ProblemKind.MissingThinId:
                {
                    var ok = host.ShouldProcess($"record of volume '{problem.Name}'", "Delete", $"delete {store.RecordPath(problem.ThinId!.Value)} (thin id {problem.ThinId} is not in the pool)");
                    if (ok)
                    {
                        using var poolLock = pools.Registry.LockPool(name);
                        if (store.FindById(problem.ThinId.Value) is { } stale) store.Delete(stale);
                    }
                    done.Add(new PoolRepair(name, problem.Kind, problem.ThinId, problem.Name, problem.Repair!, ok));
                    break;
                }
                case ProblemKind.UnrecordedDevice:
                {
                    var ok = host.ShouldProcess($"/dev/mapper/{problem.Name}", "Remove", $"remove device /dev/mapper/{problem.Name}");
                    if (ok)
                    {
                        host.Verbose($"remove device /dev/mapper/{problem.Name}");
                        dm.Remove(problem.Name!);
                    }
                    done.Add(new PoolRepair(name, problem.Kind, problem.ThinId, problem.Name, problem.Repair!, ok));
                    break;
                }
                case ProblemKind.StaleActiveState:
                    done.Add(FixActiveState(record, store, views, problem, host));
                    break;
                case ProblemKind.SizeMismatch:
                {
                    var live = views.LiveDevices.First(d => d.ThinId == problem.ThinId);
                    var size = (long)(live.LengthSectors * DmTarget.SectorSize);
                    var ok = host.ShouldProcess($"record of volume '{problem.Name}'", "Update", $"write {store.RecordPath(problem.ThinId!.Value)}: size {ByteSize.Format(size)} (its live table)");
                    if (ok)
                    {
                        using var poolLock = pools.Registry.LockPool(name);
                        if (store.FindById(problem.ThinId.Value) is { } stale) store.Save(stale with { Size = size });
                    }
                    done.Add(new PoolRepair(name, problem.Kind, problem.ThinId, problem.Name, problem.Repair!, ok));
                    break;
                }
            }
        }
        return done;
    }

    private PoolRepair Adopt(PoolRecord pool, VolumeStore store, PoolViews views, PoolProblem problem, IOperationHost host)
    {
        var id = problem.ThinId!.Value;
        var live = views.LiveDevices.FirstOrDefault(d => d.ThinId == id);
        var name = FreeName(store, problem.Name!);
        long size;
        string sizeNote;
        if (live is not null)
        {
            size = (long)live.LengthSectors * DmTarget.SectorSize;
            sizeNote = "the size of its live table";
        }
        else
        {
            var highest = views.Active ? ReadLive(pool, id).HighestMappedBlock : null;
            size = highest is { } h ? (long)(h + 1) * pool.BlockSize : pool.BlockSize;
            sizeNote = highest is null ? "one block: nothing is mapped (Resize-ThinVolume sets the size you want)" : "up to its highest mapped block (Resize-ThinVolume can grow it)";
        }
        var plan = $"write {store.RecordPath(id)}: volume '{name}', thin id {id}, {ByteSize.Format(size)} ({sizeNote}), {(live is null ? "inactive" : "active")}";
        var ok = host.ShouldProcess($"thin id {id} of pool '{pool.Name}'", "Adopt", plan);
        if (ok)
        {
            using var poolLock = pools.Registry.LockPool(pool.Name);
            store.Save(new VolumeRecord { Name = name, ThinId = id, Size = size, Active = live is not null, Created = DateTimeOffset.UtcNow });
            if (id >= store.NextId) store.SkipId(id);
            if (live is not null && live.Name != Naming.VolumeDeviceName(pool.Name, name))
            {
                host.Verbose($"rename /dev/mapper/{live.Name} to /dev/mapper/{Naming.VolumeDeviceName(pool.Name, name)}");
                dm.Rename(live.Name, Naming.VolumeDeviceName(pool.Name, name));
            }
        }
        return new PoolRepair(pool.Name, problem.Kind, id, name, $"adopt thin id {id} as volume '{name}'", ok);
    }

    private PoolRepair DeleteUnrecorded(PoolRecord pool, VolumeStore store, PoolViews views, PoolProblem problem, IOperationHost host)
    {
        var id = problem.ThinId!.Value;
        if (id >= store.NextId)
        {
            host.Warning($"Thin id {id} of pool '{pool.Name}' was not handed out by this module (its counter is at {store.NextId}); it is never deleted. Adopting it instead.");
            return Adopt(pool, store, views, problem, host);
        }
        if (views.LiveDevices.Any(d => d.ThinId == id))
        {
            host.Warning($"Thin id {id} of pool '{pool.Name}' is active; it is adopted, not deleted.");
            return Adopt(pool, store, views, problem, host);
        }
        var action = $"delete thin id {id} and its data from pool '{pool.Name}'";
        var ok = host.ShouldProcess($"thin id {id} of pool '{pool.Name}'", "Delete", $"message {pool.DevicePath} 0 delete {id}{Environment.NewLine}message {pool.DevicePath} 0 set_transaction_id <n> <n+1>")
            && host.Confirm($"Thin id {id} of pool '{pool.Name}' has no record; deleting it destroys its data for good. Delete it?", "Delete unrecorded data");
        if (ok)
        {
            new VolumeService(pools, dm).DeleteUnrecordedThinId(pool.Name, id, host);
        }
        return new PoolRepair(pool.Name, problem.Kind, id, null, action, ok);
    }

    private PoolRepair FixActiveState(PoolRecord pool, VolumeStore store, PoolViews views, PoolProblem problem, IOperationHost host)
    {
        var id = problem.ThinId!.Value;
        var live = views.LiveDevices.FirstOrDefault(d => d.ThinId == id);
        var ok = host.ShouldProcess($"volume '{problem.Name}' of pool '{pool.Name}'", "Update", problem.Repair!);
        if (ok)
        {
            using var poolLock = pools.Registry.LockPool(pool.Name);
            if (store.FindById(id) is { } record)
            {
                var wanted = Naming.VolumeDeviceName(pool.Name, record.Name);
                if (live is not null && live.Name != wanted && dm.GetInfo(wanted) is null)
                {
                    host.Verbose($"rename /dev/mapper/{live.Name} to /dev/mapper/{wanted}");
                    dm.Rename(live.Name, wanted);
                }
                store.Save(record with { Active = live is not null });
            }
        }
        return new PoolRepair(pool.Name, problem.Kind, id, problem.Name, problem.Repair!, ok);
    }

    private static string FreeName(VolumeStore store, string wanted)
    {
        var name = wanted;
        for (var i = 2; store.NameTaken(name); i++) name = $"{wanted}-{i}";
        return name;
    }

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
