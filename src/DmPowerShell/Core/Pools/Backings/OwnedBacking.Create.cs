using DmPowerShell.Registry;

namespace DmPowerShell.Pools.Backings;

public abstract partial class OwnedBacking
{
    /// <summary>Creates and activates a pool. Returns null when the host declined the change.</summary>
    public ThinPool? Create(PoolSpec spec, IOperationHost host)
    {
        if (spec.PhysicalDevices.Count > 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSetting, "-PhysicalDevice is for LVM mode: give -VolumeGroup too.", spec.PhysicalDevices[0]);
        }
        var (dataSize, metadataSize) = SizesFor(spec);
        foreach (var warning in PoolRules.Validate(spec, dataSize, metadataSize))
        {
            host.Warning(warning);
        }
        var blocks = (ulong)(dataSize / spec.BlockSize);
        var (dataPath, metadataPath) = PathsFor(spec);
        var record = new PoolRecord
        {
            Name = spec.Name,
            Id = Guid.NewGuid().ToString("N"),
            State = RecordState.Creating,
            Backing = Kind,
            DataPath = dataPath,
            MetadataPath = metadataPath,
            DataSize = dataSize,
            MetadataSize = metadataSize,
            BlockSize = spec.BlockSize,
            LowWaterMarkBlocks = spec.LowWaterMarkBlocks ?? PoolRules.DefaultLowWaterMark(blocks, spec.MinimumFreeSpacePercent),
            SkipBlockZeroing = spec.SkipBlockZeroing,
            DiscardMode = spec.DiscardMode,
            NoSpacePolicy = spec.NoSpacePolicy,
            MinimumFreeSpacePercent = spec.MinimumFreeSpacePercent,
            Created = DateTimeOffset.UtcNow,
        };
        record = PoolPolicies.Apply(record, new PoolPolicyChange { DataThresholdPercent = spec.AutoextendThreshold, DataStepPercent = spec.AutoextendPercent });
        CheckSpec(spec);
        var created = new List<string>();
        using var devices = new PoolDevices();
        var deviceCreated = false;
        var plan = new Plan();
        var recordPath = Path.Combine(Registry.PoolFolder(spec.Name), "pool.json");
        plan.Add($"write record {recordPath} (state Creating: a creation cut short is rolled back by the next one)", () =>
        {
            Registry.SavePool(record);
            FaultInjection.Step("record-written");
            host.Progress($"Creating thin pool '{record.Name}'", "backing storage", 10);
        });
        PlanStorage(plan, record, created);
        PlanAttach(plan, record, devices);
        plan.Add("", () => host.Progress($"Creating thin pool '{record.Name}'", "loading the thin-pool table", 60));
        PlanDevice(plan, record, devices, "device-created");
        plan.Add("", () => deviceCreated = true);
        plan.Add($"mark the record ready", () =>
        {
            Registry.SavePool(record with { State = RecordState.Ready });
            FaultInjection.Step("record-ready");
        });
        if (!host.ShouldProcess($"thin pool '{spec.Name}'", "Create", plan.Render()))
        {
            return null;
        }

        Dm.GetVersion(); // no driver, no root: say so before anything is written
        using var registryLock = Registry.LockRegistry();
        RollBackUnfinished(spec.Name, host);
        Pools.CheckNameFree(record);
        CheckFree(record, host);
        using var poolLock = Registry.LockPool(spec.Name);
        FaultInjection.Begin("pool-create");
        try
        {
            plan.Run(host);
            host.Progress($"Creating thin pool '{record.Name}'", "done", 100, completed: true);
            return Pools.Get(record.Name);
        }
        catch
        {
            // Roll back in reverse: device, files, record. The loops auto-clear with the device.
            host.Progress($"Creating thin pool '{record.Name}'", "rolling back", -1, completed: true);
            if (deviceCreated && Dm.GetInfo(record.DeviceName) is not null)
            {
                Dm.Remove(record.DeviceName);
            }
            devices.Dispose();
            foreach (var file in created)
            {
                DurableFile.Delete(file);
            }
            Registry.DeletePool(record.Name);
            Registry.DeletePoolFolderIfEmpty(record.Name);
            throw;
        }
    }

    /// <summary>A record left in Creating by a killed process: undo what that creation did.</summary>
    private void RollBackUnfinished(string name, IOperationHost host)
    {
        if (Registry.FindPool(name) is not { State: RecordState.Creating } stale)
        {
            return;
        }
        host.Warning($"Rolling back the unfinished creation of pool '{name}' (a previous command was interrupted).");
        PoolBackings.For(stale.Backing, Pools).RollBackCreation(stale);
        Registry.DeletePool(name);
    }

    public void RollBackCreation(PoolRecord stale)
    {
        if (Dm.GetInfo(stale.DeviceName) is { } info && info.Uuid == stale.Uuid)
        {
            Dm.Remove(stale.DeviceName);
        }
        RollBackStorage(stale);
    }
}
