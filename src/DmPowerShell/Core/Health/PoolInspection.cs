using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Health;

/// <summary>Compares the views of a pool (pure: no kernel, no files) and names each disagreement.</summary>
public static class PoolInspection
{
    public static IReadOnlyList<PoolProblem> Compare(PoolViews views)
    {
        var pool = views.Pool.Name;
        var problems = new List<PoolProblem>();
        void Add(ProblemKind kind, string description, string? repair, uint? id = null, string? name = null) =>
            problems.Add(new PoolProblem { Pool = pool, Kind = kind, Description = description, Repair = repair, ThinId = id, Name = name });

        if (!views.Active)
        {
            Add(ProblemKind.Inactive, $"Pool '{pool}' is not active; its metadata was read at rest and no live devices were compared.", null);
        }
        if (views.MetadataCheckFailure is { } failure)
        {
            Add(ProblemKind.MetadataDamaged, $"thin_check finds the metadata of pool '{pool}' damaged: {failure}",
                "run thin_repair into a spare metadata file, keep the original beside it, and use the repaired copy");
        }
        if (views.NeedsCheckAtRest)
        {
            Add(ProblemKind.NeedsCheck, $"The metadata of pool '{pool}' has needs_check set: the kernel found it inconsistent, and the pool will come up read-only.",
                "repair its metadata with thin_repair into a spare, keeping the original");
        }
        if (views.Status is { } status)
        {
            if (status.Health != TargetHealth.Ok)
            {
                Add(ProblemKind.Failed, $"The kernel reports pool '{pool}' as {status.Health}.", "take the pool offline and repair its metadata with thin_repair, keeping the original");
            }
            if (status.NeedsCheck == true)
            {
                Add(ProblemKind.NeedsCheck, $"Pool '{pool}' has needs_check set: the kernel found its metadata inconsistent.", "take the pool offline and repair its metadata with thin_repair, keeping the original");
            }
            if (status.Mode == PoolMode.ReadOnly && status.NeedsCheck != true)
            {
                Add(ProblemKind.ReadOnly, $"Pool '{pool}' is read-only: no thin device can be written, created or deleted.", null);
            }
            if (status.Mode == PoolMode.OutOfDataSpace)
            {
                Add(ProblemKind.OutOfDataSpace, $"Pool '{pool}' is out of data space: writes to unprovisioned blocks {(views.Pool.NoSpacePolicy == NoSpacePolicy.Error ? "fail" : "wait")}. Grow it with Resize-ThinPool.", null);
            }
            var minimum = views.Pool.MinimumFreeSpacePercent;
            if (minimum > 0 && status.TotalDataBlocks > 0 && (status.TotalDataBlocks - status.UsedDataBlocks) * 100 < status.TotalDataBlocks * (ulong)minimum)
            {
                Add(ProblemKind.LowDataSpace, $"Pool '{pool}' has {100.0 * (status.TotalDataBlocks - status.UsedDataBlocks) / status.TotalDataBlocks:0.#}% data space free, under its minimum of {minimum}%. Grow it with Resize-ThinPool.", null);
            }
            if (minimum > 0 && status.TotalMetadataBlocks > 0 && (status.TotalMetadataBlocks - status.UsedMetadataBlocks) * 100 < status.TotalMetadataBlocks * (ulong)minimum)
            {
                Add(ProblemKind.LowMetadataSpace, $"Pool '{pool}' has {100.0 * (status.TotalMetadataBlocks - status.UsedMetadataBlocks) / status.TotalMetadataBlocks:0.#}% metadata space free, under its minimum of {minimum}%. Grow it with Resize-ThinPool -MetadataSize.", null);
            }
        }
        if (views.InterruptedRepair is { } offline)
        {
            Add(ProblemKind.UnfinishedRepair,
                $"A metadata repair of pool '{pool}' was interrupted; the pool{(offline.Count == 0 ? "" : $" and {string.Join(", ", offline.Select(v => $"'{v}'"))}")} may still be offline.",
                "finish the repair: check the metadata again, then bring the pool and those volumes back");
        }
        if (views.Journal is { } journal)
        {
            Add(ProblemKind.UnfinishedTransaction,
                $"An interrupted {journal.Operation} of {string.Join(", ", journal.Volumes.Select(r => $"'{r.Name}' (thin id {r.ThinId})").Concat(journal.DeletedUnrecorded.Select(i => $"thin id {i}")))} (pid {journal.ProcessId}, {journal.Started:u}).",
                "complete it, or roll it back, from the pool's transaction id (a journal the pool has moved past: by the thin ids its metadata holds)");
        }

        if (views.Summary is { } summary && VolumeSummary.Of(views.Records) is var counted && counted != summary)
        {
            Add(ProblemKind.StaleSummary,
                $"The registry's summary of pool '{pool}' says {summary.Count} volumes of {ByteSize.Format(summary.ProvisionedBytes)}; its records are {counted.Count} of {ByteSize.Format(counted.ProvisionedBytes)} (a record written by hand, or by another tool).",
                "write the summary again from the records");
        }

        // Ids in flux (journal) or on their way out (pending deletion) are not disagreements.
        var inFlux = (views.Journal?.ThinIds ?? Enumerable.Empty<uint>()).Concat(views.PendingDeletions).ToHashSet();
        var recordsById = views.Records.ToDictionary(r => r.ThinId.Value);
        var liveById = views.LiveDevices.Where(d => d.ThinId is not null).GroupBy(d => d.ThinId!.Value).ToDictionary(g => g.Key, g => g.First());
        // A pool handed to a container runtime (recorded, or its devices active): the thin ids without a record are the runtime's.
        var runtime = RuntimeDevices.Driving(views.Pool.HandedTo, views.Pool.DeviceName, views.LiveDevices.Select(d => d.Name));
        if (views.Metadata is { } metadata)
        {
            var metadataIds = metadata.Devices.Select(d => d.Id).ToHashSet();
            foreach (var device in metadata.Devices.Where(d => !recordsById.ContainsKey(d.Id) && !inFlux.Contains(d.Id)).OrderBy(d => d.Id))
            {
                var live = liveById.GetValueOrDefault(device.Id);
                var mapped = $"{device.MappedBlocks} blocks mapped{(live is null ? "" : $", active as /dev/mapper/{live.Name}")}";
                if (runtime != PoolRuntime.None)
                {
                    // Not a problem, and nothing to repair: Repair-ThinPool never adopts or deletes it.
                    Add(ProblemKind.RuntimeThinId, $"Thin id {device.Id} ({mapped}) is {runtime}'s: the pool is handed to it, and the module leaves its thin ids alone.", null, device.Id, live?.Name);
                    continue;
                }
                var name = live?.VolumeName ?? $"recovered-{device.Id}";
                Add(ProblemKind.UnrecordedThinId,
                    $"Thin id {device.Id} ({mapped}) has no record. If a container runtime uses this pool, Set-ThinPool '{pool}' -HandedTo Docker or Containerd tells the module to leave its ids alone.",
                    $"adopt it as volume '{name}'", device.Id, name);
            }
            foreach (var record in views.Records.Where(r => !metadataIds.Contains(r.ThinId) && !inFlux.Contains(r.ThinId)).OrderBy(r => r.ThinId))
            {
                Add(ProblemKind.MissingThinId, $"Volume '{record.Name}' names thin id {record.ThinId}, which the pool does not hold.",
                    "delete the record (there is no data behind it)", record.ThinId, record.Name);
            }
            foreach (var live in views.LiveDevices.Where(d => d.ThinId is { } id && !metadataIds.Contains(id) && !recordsById.ContainsKey(id) && RuntimeDevices.Of(views.Pool.DeviceName, d.Name) == PoolRuntime.None))
            {
                Add(ProblemKind.UnrecordedDevice, $"/dev/mapper/{live.Name} maps thin id {live.ThinId}, which neither the pool nor the registry holds.",
                    $"remove the device /dev/mapper/{live.Name}", live.ThinId, live.Name);
            }
        }
        if (views.Active)
        {
            foreach (var record in views.Records.Where(r => !inFlux.Contains(r.ThinId)))
            {
                var live = liveById.GetValueOrDefault(record.ThinId);
                if (live is not null && live.VolumeName != record.Name)
                {
                    Add(ProblemKind.StaleActiveState, $"Volume '{record.Name}' (thin id {record.ThinId}) is active under another name, /dev/mapper/{live.Name}.",
                        $"rename /dev/mapper/{live.Name} to the recorded name", record.ThinId, record.Name);
                }
                else if (record.Active != (live is not null))
                {
                    Add(ProblemKind.StaleActiveState, $"Volume '{record.Name}' is recorded as {(record.Active ? "active" : "inactive")} but is {(live is null ? "inactive" : "active")}.",
                        "record its live state", record.ThinId, record.Name);
                }
                // The kernel's table is what the volume's users see; a record that says otherwise is stale.
                if (live is not null && record.Size != Sectors.ToBytes(live.LengthSectors))
                {
                    Add(ProblemKind.SizeMismatch,
                        $"Volume '{record.Name}' is recorded as {ByteSize.Format(record.Size)} but its live table is {ByteSize.Format(Sectors.ToBytes(live.LengthSectors))}.",
                        "record the size of its live table", record.ThinId, record.Name);
                }
            }
        }
        return problems;
    }
}
