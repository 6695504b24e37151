using DmPowerShell.Kernel;
using DmPowerShell.Registry;

namespace DmPowerShell.Transactions;

/// <summary>Recovery: a journal left by a killed process, finished or rolled back from the pool's transaction id.</summary>
public sealed partial class PoolTransaction
{
    /// <summary>
    /// Completes or rolls back a change that a killed process left (opening a session does it).
    /// False when the journal stays: one the pool has moved past, left by an activation for Repair-ThinPool.
    /// </summary>
    public static bool Recover(PoolSession session, PoolJournal journal, IOperationHost host)
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
                // The pool moved past the journal: settled by the metadata's thin ids (Repair-ThinPool),
                // left for the repair (activation), or refused.
                if (session.MetadataThinIds is { } held)
                {
                    Settle(session, journal, transaction, held, host);
                    return true;
                }
                if (session.LeaveJournalThePoolMovedPast)
                {
                    host.Warning($"Pool '{pool.Name}' has transaction id {transaction}, but the journal of an interrupted {journal.Operation} expects {journal.FromTransaction} or {journal.FromTransaction + 1}: its registry lost writes the pool's metadata kept. The recorded volumes come up; Repair-ThinPool '{pool.Name}' settles the rest.");
                    return false;
                }
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
                RemoveDevice(session, volume, host);
                DeleteThinId(session, volume.ThinId, host);
            }
            foreach (var id in journal.DeletedUnrecorded) DeleteThinId(session, id, host);
            foreach (var volume in journal.Replaced) RemoveDevice(session, volume, host);
            var created = journal.Created.Select(r => r with { Active = session.LiveDevice(r) is not null || ActivateAfterCrash(session, journal, r, host) });
            session.Volumes.Apply(created.Concat(journal.Saved), journal.Deleted.Concat(journal.Forgotten));
        }
        else
        {
            foreach (var volume in journal.Created)
            {
                RemoveDevice(session, volume, host);
                DeleteThinId(session, volume.ThinId, host);
            }
            Undo(session, journal);
        }
        if (journal.SendsMessages)
        {
            host.Verbose($"commit the metadata of pool '{pool.Name}'");
            session.CommitMetadata();
        }
        session.Volumes.Finish(journal.NextId);
        return true;
    }

    /// <summary>
    /// A journal the pool has moved past: its registry lost writes that the pool's metadata kept
    /// (the registry on a disk of its own that lost them, or restored from a backup). No message
    /// is sent: each change the journal describes is taken as the metadata shows it, a new volume
    /// recorded when its thin id is there, a deleted one forgotten when its id is gone.
    /// </summary>
    private static void Settle(PoolSession session, PoolJournal journal, ulong transaction, IReadOnlySet<uint> held, IOperationHost host)
    {
        host.Warning($"Pool '{session.Pool.Name}' is at transaction id {transaction}, past the interrupted {journal.Operation} (its journal expects {journal.FromTransaction} or {journal.FromTransaction + 1}): settling it by the thin ids the pool's metadata holds.");
        // The pool moved on, so the command returned long ago: a file system it was making is made
        // (making it again would wipe what was written since), and its volume comes up as asked.
        var created = journal.Created.Where(r => held.Contains(r.ThinId.Value))
            .Select(r => r with { Formatting = false, Active = session.LiveDevice(r) is not null || ActivateAfterCrash(session, journal, r, host) }).ToList();
        var gone = journal.Deleted.Where(r => !held.Contains(r.ThinId.Value)).ToList();
        foreach (var record in created) host.Verbose($"record '{record.Name}' (thin id {record.ThinId}): the pool holds it");
        foreach (var record in gone) host.Verbose($"forget '{record.Name}' (thin id {record.ThinId}): the pool no longer holds it");
        // A change that happened (any of its effects is in the metadata) keeps its other records too.
        var happened = created.Count > 0 || gone.Count > 0;
        var kept = journal.Deleted.Except(gone).Concat(journal.Replaced).Select(r => r with { Active = session.LiveDevice(r) is not null });
        session.Volumes.Apply(created.Concat(happened ? journal.Saved : Array.Empty<VolumeRecord>()).Concat(kept),
            gone.Concat(happened ? journal.Forgotten : Array.Empty<VolumeRecord>()));
        session.Volumes.Finish(journal.NextId);
    }

    /// <summary>A new volume the killed change was to activate gets its device now; one that cannot is recorded inactive.</summary>
    private static bool ActivateAfterCrash(PoolSession session, PoolJournal journal, VolumeRecord volume, IOperationHost host)
    {
        if (!journal.Activate) return false;
        try
        {
            host.Verbose(session.ActivationText(volume, volume.ReadOnly, session.LivePoolDevice()));
            session.Activate(volume, volume.ReadOnly);
            return true;
        }
        catch (DeviceMapperException e)
        {
            host.Warning($"Could not activate '{volume.Name}' while completing the interrupted {journal.Operation}: {e.Message} It is recorded inactive; Enable-ThinVolume activates it.");
            return false;
        }
    }

    private static void RemoveDevice(PoolSession session, VolumeRecord volume, IOperationHost host)
    {
        if (session.LiveDevice(volume) is null) return;
        host.Verbose($"remove device /dev/mapper/{session.VolumeDeviceName(volume)}");
        session.RemoveDevice(volume);
    }

    private static void DeleteThinId(PoolSession session, uint id, IOperationHost host)
    {
        host.Verbose($"message {session.Pool.DevicePath} 0 {PoolMessage.Delete(new ThinId(id))}");
        DeleteThinId(session, id);
    }

    /// <summary>
    /// Before any message: every deleted volume stays, active as far as its device still is. Only
    /// a record whose device the failed step did remove is rewritten: a refused change (a busy
    /// device) leaves the registry's files as they were, not merely equal.
    /// </summary>
    private static void Undo(PoolSession session, PoolJournal journal)
    {
        var changed = journal.Deleted.Concat(journal.Replaced)
            .Select(r => r with { Active = session.LiveDevice(r) is not null })
            .Where(r => session.Volumes.FindById(r.ThinId) is not { } stored || stored.Active != r.Active)
            .ToList();
        if (changed.Count > 0) session.Volumes.Apply(changed, Array.Empty<VolumeRecord>());
    }
}
