using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Transactions;
using DmPowerShell.Units;
using DmPowerShell.Volumes;

namespace DmPowerShell.Health;

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
        pools.RequireOwnTable(record, "LVM repairs it: lvconvert --repair.");
        if (spareDevice is not null) pools.BackingOf(record).CheckSpare(record, spareDevice, force);
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
            var action = $"take pool '{name}' offline, thin_repair its metadata into a spare and use the repaired copy, keeping the original";
            // A given spare was checked above; a missing one is refused here, before anything changes.
            if (spareDevice is null) pools.BackingOf(record).CheckSpare(record, spareDevice, force);
            var plan = RepairMetadataPlan(record, spareDevice, host);
            var ok = host.ShouldProcess($"pool '{name}'", "Repair metadata", plan.Render());
            if (ok) plan.Run(host);
            done.Add(new PoolRepair(name, damaged.Kind, null, null, action, ok));
            if (!ok) return done;
            record = pools.Require(name);
            views = Gather(record);
            problems = PoolInspection.Compare(views);
        }
        if (problems.FirstOrDefault(p => p.Kind == ProblemKind.UnfinishedTransaction) is { } unfinished)
        {
            var ok = host.ShouldProcess($"pool '{name}'", "Recover", unfinished.Description + Environment.NewLine + unfinished.Repair);
            if (ok) new VolumeService(pools, dm).Recover(name, host, views.Metadata?.Devices.Select(d => d.Id).ToHashSet());
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
                    if (ok && store.FindById(problem.ThinId.Value) is { } stale)
                    {
                        using var session = PoolSession.Open(pools, name).Lock();
                        new PoolTransaction(session, "repair") { Forgotten = { stale } }.Run(host);
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
                case ProblemKind.StaleSummary:
                {
                    var ok = host.ShouldProcess($"summary of pool '{name}'", "Update", $"write {store.SummaryPath} from the {views.Records.Count} records");
                    if (ok)
                    {
                        using var session = PoolSession.Open(pools, name).Lock();
                        session.Volumes.RebuildSummary();
                    }
                    done.Add(new PoolRepair(name, problem.Kind, problem.ThinId, problem.Name, problem.Repair!, ok));
                    break;
                }
                case ProblemKind.SizeMismatch:
                {
                    var live = views.LiveDevices.First(d => d.ThinId == problem.ThinId);
                    var size = Sectors.ToBytes(live.LengthSectors);
                    var ok = host.ShouldProcess($"record of volume '{problem.Name}'", "Update", $"write {store.RecordPath(problem.ThinId!.Value)}: size {ByteSize.Format(size)} (its live table)");
                    if (ok && store.FindById(problem.ThinId.Value) is { } stale)
                    {
                        using var session = PoolSession.Open(pools, name).Lock();
                        new PoolTransaction(session, "repair") { Saved = { stale with { Size = size } } }.Run(host);
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
            size = Sectors.ToBytes(live.LengthSectors);
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
            using var session = PoolSession.Open(pools, pool.Name).Lock();
            new PoolTransaction(session, "adoption") { Saved = { new VolumeRecord { Name = name, ThinId = new ThinId(id), Size = size, Active = live is not null, Created = DateTimeOffset.UtcNow } } }.Run(host);
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
            using var session = PoolSession.Open(pools, pool.Name).Lock();
            if (store.FindById(id) is { } record)
            {
                var wanted = Naming.VolumeDeviceName(pool.Name, record.Name);
                if (live is not null && live.Name != wanted && dm.GetInfo(wanted) is null)
                {
                    host.Verbose($"rename /dev/mapper/{live.Name} to /dev/mapper/{wanted}");
                    dm.Rename(live.Name, wanted);
                }
                new PoolTransaction(session, "repair") { Saved = { record with { Active = live is not null } } }.Run(host);
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
}
