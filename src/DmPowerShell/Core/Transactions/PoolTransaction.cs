using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;

namespace DmPowerShell.Transactions;

/// <summary>
/// The one protocol for every change of a pool's thin ids: creations, snapshots, deletions,
/// adoptions and record repairs. <see cref="Run"/> writes the journal (the only durable write
/// before the kernel is touched), removes the devices of deleted volumes, suspends an active
/// origin, sends the creations, moves the pool's transaction id on by one, sends the
/// deletions, resumes, commits the metadata, activates what was asked, writes the records and
/// clears the journal. <see cref="Recover"/> reads the same journal after a crash and, from the
/// transaction id alone, finishes the change or undoes it (see <see cref="PoolJournal"/>).
/// </summary>
public sealed class PoolTransaction
{
    private readonly PoolSession session;
    private readonly string operation;

    public PoolTransaction(PoolSession session, string operation)
    {
        this.session = session;
        this.operation = operation;
    }

    /// <summary>New volumes; their thin ids are given when the transaction runs.</summary>
    public List<VolumeRecord> Created { get; } = new();

    /// <summary>The thin id the new volumes are snapshots of; null for new empty volumes.</summary>
    public uint? SnapshotOf { get; init; }

    /// <summary>An active origin's device, suspended while its snapshots are taken.</summary>
    public string? Suspend { get; init; }

    /// <summary>Create the new volumes' devices after the commit.</summary>
    public bool Activate { get; init; }

    public bool ReadOnly { get; init; }

    public List<VolumeRecord> Deleted { get; } = new();

    public List<uint> DeletedUnrecorded { get; } = new();

    public List<VolumeRecord> Saved { get; } = new();

    public List<VolumeRecord> Forgotten { get; } = new();

    /// <summary>Runs the change; returns the new volumes with their ids and active state.</summary>
    /// <param name="status">The pool's status when the caller has just read it.</param>
    public IReadOnlyList<VolumeRecord> Run(IOperationHost host, ThinPoolStatus? status = null)
    {
        var store = session.Volumes;
        if (store.ReadJournal() is not null)
        {
            // Prepare recovers a journal; one still here means a repair declined to finish it.
            throw new DmPowerShellException(ErrorIds.PoolUnhealthy, ErrorKind.InvalidState,
                $"Pool '{session.Pool.Name}' has an unfinished change; Repair-ThinPool '{session.Pool.Name}' completes or rolls it back first.", session.Pool.Name);
        }
        var (ids, next) = store.ReserveIds(Created.Count);
        // Adopted ids count as handed out: the counter moves past them.
        next = Saved.Select(r => r.ThinId + 1).Where(n => n <= ThinId.Max).Append(next).Max();
        var created = Created.Select((r, i) => r with { ThinId = ids[i] }).ToList();
        var sendsMessages = Created.Count > 0 || Deleted.Count > 0 || DeletedUnrecorded.Count > 0;
        var journal = new PoolJournal
        {
            Operation = operation,
            // A change without messages needs neither the transaction id nor an active pool.
            FromTransaction = sendsMessages ? (status ?? session.Status()).TransactionId : 0,
            Created = created,
            Deleted = Deleted.ToList(),
            DeletedUnrecorded = DeletedUnrecorded.ToList(),
            Saved = Saved.ToList(),
            Forgotten = Forgotten.ToList(),
            NextId = next,
            SuspendedDevice = Suspend,
            Started = DateTimeOffset.UtcNow,
            ProcessId = Environment.ProcessId,
        };
        store.WriteJournal(journal);
        FaultInjection.Step("journal-written");
        if (journal.Deleted.Count > 0)
        {
            try
            {
                foreach (var volume in journal.Deleted) session.RemoveDevice(volume, host);
            }
            catch
            {
                // No message was sent: undoing keeps every volume, active as far as its device still is.
                Undo(journal, host);
                store.Finish(journal.NextId);
                throw;
            }
            FaultInjection.Step("device-removed");
        }
        if (Suspend is not null)
        {
            host.Verbose($"suspend /dev/mapper/{Suspend}");
            session.Dm.Suspend(Suspend);
            FaultInjection.Step("origin-suspended");
        }
        try
        {
            journal = SendCreations(journal, host);
            if (journal.SendsMessages)
            {
                var message = PoolMessage.SetTransactionId(journal.FromTransaction, journal.FromTransaction + 1);
                host.Verbose($"message {session.Pool.DevicePath} 0 {message}");
                session.Dm.SendMessage(session.Pool.DeviceName, message);
                FaultInjection.Step("transaction-set");
            }
            foreach (var volume in journal.Deleted)
            {
                DeleteThinId(volume.ThinId, host);
                FaultInjection.Step("thin-deleted");
            }
            foreach (var id in journal.DeletedUnrecorded) DeleteThinId(id, host);
        }
        catch
        {
            if (Suspend is not null) ResumeAfterFailure(Suspend, host);
            throw;
        }
        if (Suspend is not null)
        {
            host.Verbose($"resume /dev/mapper/{Suspend}");
            session.Dm.Resume(Suspend);
            FaultInjection.Step("origin-resumed");
        }
        if (journal.SendsMessages) session.CommitMetadata(host);
        created = journal.Created.ToList();
        try
        {
            if (Activate) ActivateAll(created, host);
            FaultInjection.Step("devices-created");
        }
        finally
        {
            // Activated or not (a failed activation is reported, the volume stays), the records say so.
            store.Apply(created.Concat(journal.Saved), journal.Deleted.Concat(journal.Forgotten));
            FaultInjection.Step("records-written");
            store.Finish(journal.NextId);
        }
        return created;
    }

    /// <summary>create_thin or create_snap for each new volume; an id the pool already holds is skipped, never reused.</summary>
    private PoolJournal SendCreations(PoolJournal journal, IOperationHost host)
    {
        var created = journal.Created.ToList();
        var next = journal.NextId;
        for (var i = 0; i < created.Count; i++)
        {
            if (created.Count > 1)
            {
                host.Progress($"Creating {created.Count} thin devices in pool '{session.Pool.Name}'", $"thin id {created[i].ThinId} ({i + 1} of {created.Count})", i * 100 / created.Count, completed: i == created.Count - 1);
            }
            while (true)
            {
                var id = new ThinId(created[i].ThinId);
                var message = SnapshotOf is { } origin ? PoolMessage.CreateSnapshot(id, new ThinId(origin)) : PoolMessage.CreateThin(id);
                host.Verbose($"message {session.Pool.DevicePath} 0 {message}");
                try
                {
                    session.Dm.SendMessage(session.Pool.DeviceName, message);
                    break;
                }
                catch (DeviceExistsException)
                {
                    // The pool holds an id with no record (a loss elsewhere): never reuse it.
                    host.Warning($"Pool '{session.Pool.Name}' already holds thin id {created[i].ThinId} without a record; skipping it (Test-ThinPool reports such ids).");
                    var reserved = session.Volumes.ReserveIds(1, next, taken: id => created.Any(c => c.ThinId == id));
                    created[i] = created[i] with { ThinId = reserved.Ids[0] };
                    next = reserved.Next;
                    journal = journal with { Created = created.ToList(), NextId = next };
                    session.Volumes.WriteJournal(journal);
                }
            }
            FaultInjection.Step("thin-created");
        }
        return journal;
    }

    private void ActivateAll(List<VolumeRecord> volumes, IOperationHost host)
    {
        var activity = $"Activating {volumes.Count} thin devices in pool '{session.Pool.Name}'";
        for (var i = 0; i < volumes.Count; i++)
        {
            if (volumes.Count > 1)
            {
                host.Progress(activity, $"'{volumes[i].Name}' ({i + 1} of {volumes.Count})", i * 100 / volumes.Count);
            }
            session.Activate(volumes[i], ReadOnly, host);
            volumes[i] = volumes[i] with { Active = true };
        }
        if (volumes.Count > 1)
        {
            host.Progress(activity, "done", 100, completed: true);
        }
    }

    private void DeleteThinId(uint id, IOperationHost host) => DeleteThinId(session, id, host);

    /// <summary>Deletes a thin id; one already gone is fine (deleting is idempotent).</summary>
    private static void DeleteThinId(PoolSession session, uint id, IOperationHost host)
    {
        var message = PoolMessage.Delete(new ThinId(id));
        host.Verbose($"message {session.Pool.DevicePath} 0 {message}");
        try
        {
            session.Dm.SendMessage(session.Pool.DeviceName, message);
        }
        catch (DeviceMapperException e) when (e.Errno == Errno.ENODATA)
        {
        }
    }

    private void ResumeAfterFailure(string device, IOperationHost host)
    {
        try
        {
            host.Verbose($"resume /dev/mapper/{device}");
            session.Dm.Resume(device);
        }
        catch (DeviceMapperException e)
        {
            host.Warning($"Could not resume /dev/mapper/{device} after a failed change: {e.Message}. The next command on the pool tries again.");
        }
    }

    /// <summary>Completes or rolls back a change that a killed process left (opening a session does it).</summary>
    public static void Recover(PoolSession session, PoolJournal journal, IOperationHost host)
    {
        var pool = session.Pool;
        if (journal.SuspendedDevice is { } suspended && session.Dm.GetInfo(suspended) is { Suspended: true })
        {
            host.Warning($"Resuming {suspended}, left suspended by an interrupted command (pid {journal.ProcessId}).");
            session.Dm.Resume(suspended);
        }
        var forward = true;
        if (journal.SendsMessages)
        {
            var transaction = session.Status().TransactionId;
            forward = transaction == journal.FromTransaction + 1;
            if (!forward && transaction != journal.FromTransaction)
            {
                throw new DmPowerShellException(ErrorIds.PoolUnhealthy, ErrorKind.InvalidState,
                    $"Pool '{pool.Name}' has transaction id {transaction}, but its journal expects {journal.FromTransaction} or {journal.FromTransaction + 1}: something else changed the pool. Repair-ThinPool can reconcile it.", pool.Name);
            }
        }
        var what = string.Join(", ", journal.Volumes.Select(r => $"'{r.Name}'").Concat(journal.DeletedUnrecorded.Select(i => $"thin id {i}")));
        host.Warning($"{(forward ? "Completing" : "Rolling back")} an interrupted {journal.Operation} of {what} in pool '{pool.Name}' (pid {journal.ProcessId}).");
        if (forward)
        {
            foreach (var volume in journal.Deleted)
            {
                session.RemoveDevice(volume, host);
                DeleteThinId(session, volume.ThinId, host);
            }
            foreach (var id in journal.DeletedUnrecorded) DeleteThinId(session, id, host);
            var created = journal.Created.Select(r => r with { Active = session.LiveDevice(r) is not null });
            session.Volumes.Apply(created.Concat(journal.Saved), journal.Deleted.Concat(journal.Forgotten));
        }
        else
        {
            Undo(session, journal, host);
        }
        if (journal.SendsMessages) session.CommitMetadata(host);
        session.Volumes.Finish(journal.NextId);
    }

    private void Undo(PoolJournal journal, IOperationHost host) => Undo(session, journal, host);

    /// <summary>Before the transaction id moved: the creations are deleted, every deleted volume stays (active if its device still is).</summary>
    private static void Undo(PoolSession session, PoolJournal journal, IOperationHost host)
    {
        foreach (var volume in journal.Created)
        {
            session.RemoveDevice(volume, host);
            DeleteThinId(session, volume.ThinId, host);
        }
        session.Volumes.Apply(journal.Deleted.Select(r => r with { Active = session.LiveDevice(r) is not null }), Array.Empty<VolumeRecord>());
    }
}
