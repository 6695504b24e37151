using System.Text;
using DmPowerShell.Kernel;
using DmPowerShell.Lvm;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;
using static DmPowerShell.Lvm.LvmTools;

namespace DmPowerShell.Pools.Backings;

/// <summary>
/// The guide's direct-lvm mode through LVM's own commands. LVM owns these pools' tables,
/// transaction ids and thin ids: the module runs lvcreate, lvconvert, lvextend and lvchange, and
/// never loads a table or sends a thin message to them itself.
/// </summary>
public sealed class LvmBacking : IPoolBacking
{
    private readonly PoolService pools;

    public LvmBacking(PoolService pools) => this.pools = pools;

    private PoolRegistry Registry => pools.Registry;

    public PoolBacking Kind => PoolBacking.Lvm;

    public PoolManager Manager => PoolManager.Lvm;

    /// <summary>LVM maps the thin-pool as `vg-lv` while it has no thin LVs, and as `vg-lv-tpool` once it has.</summary>
    public string? LiveDeviceName(PoolRecord record)
    {
        foreach (var name in DeviceNames(record))
        {
            if (pools.DeviceMapper.GetInfo(name) is not null && pools.DeviceMapper.GetTable(name) is [{ TargetType: ThinPoolTable.TargetType }])
            {
                return name;
            }
        }
        return null;
    }

    public bool Names(PoolRecord record, string deviceName) => DeviceNames(record).Contains(deviceName);

    private static string[] DeviceNames(PoolRecord record) =>
        new[] { LvmNames.PoolTargetName(record.VolumeGroup!, record.LogicalVolume!), record.DeviceName };

    public void RequireOwnTable(PoolRecord record, string instead) =>
        throw new DmPowerShellException(ErrorIds.PoolNotOwned, ErrorKind.InvalidState,
            $"Pool '{record.Name}' is an LVM thin pool ({record.VolumeGroup}/{record.LogicalVolume}): LVM keeps its transaction id and thin ids, so the module sends it no thin messages. {instead}", record.Name);

    public string? Monitoring(PoolRecord record) => LvmTools.Monitoring(record);

    /// <summary>LVM grows its own pools (its profile, dmeventd): the module never extends them.</summary>
    public (long Data, long Metadata)? GrowthLimits(PoolRecord record) => null;

    public long StoredSize(PoolRecord record, bool metadata) => 0;

    /// <summary>LVM pools are recorded once LVM made them: none is left half-created.</summary>
    public void RollBackCreation(PoolRecord stale) { }

    public void CheckSpare(PoolRecord record, string? spareDevice, bool force) => RequireOwnTable(record, "LVM repairs it: lvconvert --repair.");

    public IReadOnlyList<string> DescribeMetadataReplacement(PoolRecord record, string? spareDevice, string write, string spareSuffix, string kept) =>
        throw new InvalidOperationException("LVM replaces its pools' metadata itself.");

    public void ReplaceMetadata(PoolRecord record, string? spareDevice, string spareSuffix, string kept, IOperationHost host,
        Func<string, ToolResult> write, Func<ToolResult, DmPowerShellException> failure) =>
        throw new InvalidOperationException("LVM replaces its pools' metadata itself.");

    // ---------------------------------------------------------------- create

    public ThinPool? Create(PoolSpec spec, IOperationHost host)
    {
        var volumeGroup = spec.VolumeGroup!;
        if (!LvmNames.IsValid(volumeGroup))
        {
            throw PoolRules.Invalid(ErrorIds.InvalidName, $"'{volumeGroup}' is not a volume group name LVM accepts (letters, digits, + _ . -, not starting with -).", volumeGroup);
        }
        PoolRules.CheckName(spec.Name);
        if (spec.MetadataSize is { } askedMeta)
        {
            PoolRules.CheckMetadataSize(askedMeta);
        }
        if (spec.LowWaterMarkBlocks is not null)
        {
            host.Warning("LVM sets an LVM pool's low water mark itself; -LowWaterMark is ignored.");
        }
        var record = new PoolRecord
        {
            Name = spec.Name,
            Id = Guid.NewGuid().ToString("N"),
            State = RecordState.Ready,
            Backing = PoolBacking.Lvm,
            VolumeGroup = volumeGroup,
            LogicalVolume = spec.Name,
            DataPath = $"/dev/{volumeGroup}/{spec.Name}",
            MetadataPath = $"/dev/{volumeGroup}/{spec.Name}_tmeta",
            BlockSize = spec.BlockSize,
            SkipBlockZeroing = true,
            DiscardMode = spec.DiscardMode,
            NoSpacePolicy = spec.NoSpacePolicy,
            MinimumFreeSpacePercent = spec.MinimumFreeSpacePercent,
            Created = DateTimeOffset.UtcNow,
        };
        // The guide's profile: 80% and 20% unless told otherwise; checked as Set-ThinPool checks them.
        record = PoolPolicies.Apply(record, new PoolPolicyChange { DataThresholdPercent = spec.AutoextendThreshold ?? 80, DataStepPercent = spec.AutoextendPercent ?? 20 });
        pools.CheckNameFree(record);
        var exists = VolumeGroupExists(volumeGroup);
        var fresh = NewPhysicalVolumes(volumeGroup, spec.PhysicalDevices, spec.Force, out var orphans);
        if (!exists && fresh.Count + orphans.Count == 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSetting, $"The volume group '{volumeGroup}' does not exist: give -PhysicalDevice, the block devices to make it from.", volumeGroup);
        }
        if (exists && LogicalVolumeExists(volumeGroup, spec.Name))
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists, $"The volume group '{volumeGroup}' already has a logical volume named '{spec.Name}'.", spec.Name);
        }
        var plan = new LvmPoolPlan
        {
            VolumeGroup = volumeGroup,
            LogicalVolume = spec.Name,
            NewPhysicalVolumes = fresh.Concat(orphans).ToList(),
            VolumeGroupExists = exists,
            DataSize = spec.DataSize,
            MetadataSize = spec.MetadataSize,
            ChunkSize = spec.BlockSize,
            Discards = spec.DiscardMode switch { Kernel.DiscardMode.Ignore => "ignore", Kernel.DiscardMode.NoPassdown => "nopassdown", _ => "passdown" },
            ErrorWhenFull = spec.NoSpacePolicy == Kernel.NoSpacePolicy.Error,
            AutoextendThreshold = record.DataAutoextend.ThresholdPercent,
            AutoextendPercent = record.DataAutoextend.StepPercent,
            ProfileFolder = ProfileFolder(),
        };
        // Orphan PVs need no pvcreate: drop theirs from the plan.
        var build = plan.Build().Where(c => !(c.Program == "pvcreate" && orphans.Contains(c.Arguments[^1]))).ToList();
        var text = new StringBuilder();
        foreach (var command in build) text.AppendLine(command.ToString());
        text.AppendLine($"write {plan.ProfilePath}: thin_pool_autoextend_threshold={plan.AutoextendThreshold} thin_pool_autoextend_percent={plan.AutoextendPercent}");
        foreach (var command in plan.Finish()) text.AppendLine(command.ToString());
        text.Append($"write record {Path.Combine(Registry.PoolFolder(spec.Name), "pool.json")}");
        if (!host.ShouldProcess($"thin pool '{spec.Name}' on LVM volume group '{volumeGroup}'", "Create", text.ToString()))
        {
            return null;
        }

        using var registryLock = Registry.LockRegistry();
        pools.CheckNameFree(record);
        var step = 0;
        foreach (var command in build)
        {
            host.Progress($"Creating thin pool '{spec.Name}' with LVM", command.Program, 10 + 70 * step++ / build.Count);
            Run(command, host);
        }
        host.Verbose($"write {plan.ProfilePath}");
        Directory.CreateDirectory(plan.ProfileFolder);
        File.WriteAllText(plan.ProfilePath, plan.ProfileText);
        foreach (var command in plan.Finish())
        {
            Run(command, host);
        }
        var (data, metadata) = Sizes(volumeGroup, spec.Name);
        if (Monitoring(record) != "monitored")
        {
            // LVM users' trap: a profile with no dmeventd watching the pool extends nothing.
            host.Warning($"LVM does not monitor {Target(record)}: its autoextend profile does nothing until dmeventd watches it (activation/monitoring = 1 in lvm.conf, then lvchange --monitor y {Target(record)}).");
        }
        using (Registry.LockPool(spec.Name))
        {
            Registry.SavePool(record with { DataSize = data, MetadataSize = metadata });
        }
        host.Progress($"Creating thin pool '{spec.Name}' with LVM", "done", 100, completed: true);
        return pools.Get(spec.Name);
    }

    // ---------------------------------------------------------------- activate, resize, remove

    public ThinPool? Enable(PoolRecord record, IOperationHost host)
    {
        var command = new LvmCommand("lvchange", new[] { "-ay", Target(record) });
        if (!host.ShouldProcess($"thin pool '{record.Name}'", "Enable", command.ToString()))
        {
            return null;
        }
        Run(command, host);
        return pools.Get(record.Name);
    }

    public bool Disable(PoolRecord record, bool deactivateVolumes, IOperationHost host)
    {
        var command = new LvmCommand("lvchange", new[] { "-an", Target(record) });
        if (!host.ShouldProcess($"thin pool '{record.Name}'", "Disable", command.ToString()))
        {
            return false;
        }
        Run(command, host);
        return true;
    }

    /// <summary>
    /// Grows the pool the way LVM wants it grown: new devices join the VG (vgextend), then lvextend of
    /// the pool LV for data and --poolmetadatasize for metadata. LVM reloads the table itself.
    /// </summary>
    public ThinPool? Resize(PoolRecord record, PoolResize request, IOperationHost host)
    {
        var (newDataSize, newMetadataSize, physicalDevices, force) = (request.DataSize, request.MetadataSize, request.PhysicalDevices, request.Force);
        var (data, metadata) = Sizes(record.VolumeGroup!, record.LogicalVolume!);
        if (newDataSize < data)
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"Pool '{record.Name}' holds {ByteSize.Format(data)} of data space; a thin pool cannot shrink. Give a size of at least that.", record.Name);
        }
        if (newMetadataSize < metadata)
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"Pool '{record.Name}' has {ByteSize.Format(metadata)} of metadata; pool metadata cannot shrink. Give a size of at least that.", record.Name);
        }
        if (newMetadataSize is { } meta)
        {
            PoolRules.CheckMetadataSize(meta);
        }
        var fresh = NewPhysicalVolumes(record.VolumeGroup!, physicalDevices, force, out var orphans);
        var commands = LvmPoolPlan.Resize(record.VolumeGroup!, record.LogicalVolume!, fresh.Concat(orphans).ToList(),
                newDataSize > data ? newDataSize : null, newMetadataSize > metadata ? newMetadataSize : null)
            .Where(c => !(c.Program == "pvcreate" && orphans.Contains(c.Arguments[^1]))).ToList();
        if (commands.Count == 0)
        {
            host.Verbose($"pool '{record.Name}' already has that size");
            return pools.Get(record.Name);
        }
        if (!host.ShouldProcess($"thin pool '{record.Name}'", "Resize", string.Join(Environment.NewLine, commands)))
        {
            return null;
        }
        using var poolLock = Registry.LockPool(record.Name);
        foreach (var command in commands)
        {
            Run(command, host);
        }
        var (grownData, grownMetadata) = Sizes(record.VolumeGroup!, record.LogicalVolume!);
        Registry.SavePool(record with { DataSize = grownData, MetadataSize = grownMetadata });
        return pools.Get(record.Name);
    }

    /// <summary>Forgets the pool; with <paramref name="removeLogicalVolume"/>, lvremove's it too (the VG and its PVs stay).</summary>
    public bool Remove(PoolRecord record, bool deactivateVolumes, bool removeLogicalVolume, IOperationHost host)
    {
        var profile = Path.Combine(ProfileFolder(), $"{record.VolumeGroup}-{record.LogicalVolume}.profile");
        var commands = removeLogicalVolume
            ? new[] { new LvmCommand("lvremove", new[] { "--yes", Target(record) }) }
            : new[] { new LvmCommand("lvchange", new[] { "-an", Target(record) }) };
        var plan = string.Join(Environment.NewLine, commands.Select(c => c.ToString()))
            + Environment.NewLine + (removeLogicalVolume ? $"delete {profile}" : $"keep the LV {Target(record)} (LVM still lists it)")
            + Environment.NewLine + $"delete record {Path.Combine(Registry.PoolFolder(record.Name), "pool.json")}";
        if (!host.ShouldProcess($"thin pool '{record.Name}'", "Remove", plan))
        {
            return false;
        }
        using var registryLock = Registry.LockRegistry();
        using (Registry.LockPool(record.Name))
        {
            foreach (var command in commands)
            {
                Run(command, host);
            }
            if (removeLogicalVolume && File.Exists(profile))
            {
                host.Verbose($"delete {profile}");
                File.Delete(profile);
            }
            Registry.DeletePool(record.Name);
            Registry.DeletePoolFolder(record.Name);
        }
        return true;
    }

    /// <summary>Set-ThinPool on an LVM pool: the data autoextend as its profile, the no-space behaviour as --errorwhenfull.</summary>
    public ThinPool? SetPolicies(PoolRecord record, PoolRecord updated, string changes, IOperationHost host)
    {
        if (!updated.MetadataAutoextend.Equals(record.MetadataAutoextend) || updated.DataAutoextend.StepBytes is not null
            || updated.DataAutoextend.MaximumSize is not null)
        {
            throw new DmPowerShellException(ErrorIds.PoolNotOwned, ErrorKind.InvalidState,
                $"LVM extends pool '{record.Name}' with one threshold and percent for data and metadata (its profile); a step size, a maximum or a separate metadata policy are not LVM's. Use -AutoextendThreshold and -AutoextendPercent.", record.Name);
        }
        var profile = Path.Combine(ProfileFolder(), $"{record.VolumeGroup}-{record.LogicalVolume}.profile");
        var commands = new List<LvmCommand>();
        if (updated.NoSpacePolicy != record.NoSpacePolicy)
        {
            commands.Add(new("lvchange", new[] { "--errorwhenfull", updated.NoSpacePolicy == Kernel.NoSpacePolicy.Error ? "y" : "n", Target(record) }));
        }
        var rewrite = !updated.DataAutoextend.Equals(record.DataAutoextend);
        var plan = changes + (rewrite ? $"{Environment.NewLine}write {profile}" : "")
            + string.Concat(commands.Select(c => Environment.NewLine + c));
        if (!host.ShouldProcess($"thin pool '{record.Name}'", "Set", plan))
        {
            return null;
        }
        using var poolLock = Registry.LockPool(record.Name);
        if (rewrite)
        {
            host.Verbose($"write {profile}");
            File.WriteAllText(profile, LvmPoolPlan.ProfileTextFor(updated.DataAutoextend.ThresholdPercent, updated.DataAutoextend.StepPercent));
        }
        foreach (var command in commands)
        {
            Run(command, host);
        }
        Registry.SavePool(updated);
        return pools.Get(record.Name);
    }
}
