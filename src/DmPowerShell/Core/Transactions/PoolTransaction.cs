using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;

namespace DmPowerShell.Transactions;

/// <summary>
/// The one protocol for every change of a pool's thin ids: creations, snapshots, deletions,
/// adoptions and record repairs. <see cref="Run"/> writes the journal (the only durable write
/// before the kernel is touched), removes the devices of deleted volumes, suspends an active
/// origin, sends the creations, moves the pool's transaction id on by one, sends the
/// deletions, resumes, activates what was asked, writes the records and clears the journal.
/// dm-thin commits its metadata after every message it accepts, so the change is durable in
/// the pool once the last message has returned: no separate commit is needed. <see cref="Recover"/> reads the same journal after a crash and, from the
/// transaction id alone, finishes the change or undoes it (see <see cref="PoolJournal"/>).
/// </summary>
public sealed partial class PoolTransaction
{
    private readonly PoolSession session;
    private readonly string operation;

    public PoolTransaction(PoolSession session, string operation)
    {
        this.session = session;
        this.operation = operation;
    }

    /// <summary>New volumes; their thin ids are given when the transaction runs.</summary>
    public List<VolumeRecord> Created { get; init; } = new();

    /// <summary>The thin id the new volumes are snapshots of; null for new empty volumes.</summary>
    public uint? SnapshotOf { get; init; }

    /// <summary>An active origin's device, suspended while its snapshots are taken.</summary>
    public string? Suspend { get; init; }

    /// <summary>Create the new volumes' devices after the commit.</summary>
    public bool Activate { get; init; }

    public bool ReadOnly { get; init; }

    public List<VolumeRecord> Deleted { get; } = new();

    public List<uint> DeletedUnrecorded { get; } = new();

    /// <summary>Volumes whose devices go before the messages (their thin ids stay): a new volume takes their names.</summary>
    public List<VolumeRecord> Replaced { get; } = new();

    public List<VolumeRecord> Saved { get; } = new();

    public List<VolumeRecord> Forgotten { get; } = new();

    private const string JournalPhase = "journal", DevicesPhase = "devices", KernelPhase = "kernel",
        ActivationPhase = "activation", RecordsPhase = "records";

    // The state the plan's steps share while they run: the journal (ids may move on EEXIST), which
    // new volumes got a device, whether the origin is suspended, and the host Run was given.
    private PoolJournal journal = null!;
    private bool[] activated = Array.Empty<bool>();
    private DeviceInfo?[] devices = Array.Empty<DeviceInfo?>();
    private bool suspended;
    private IOperationHost host = SilentHost.Instance;

    /// <summary>
    /// The steps of the change against the pool as it is now: the ids it will hand out, the
    /// transaction id it moves from (a placeholder while the pool is inactive). -WhatIf shows
    /// this plan; <see cref="Run"/> builds it again under the pool's lock and runs it.
    /// </summary>
    public Plan Plan(ThinPoolStatus? status = null)
    {
        var store = session.Volumes;
        var (ids, next) = store.ReserveIds(Created.Count);
        // Adopted ids count as handed out: the counter moves past them.
        next = Saved.Select(r => r.ThinId + 1).Where(n => n <= ThinId.Max).Append(next).Max();
        journal = new PoolJournal
        {
            Operation = operation,
            Created = Created.Select((r, i) => r with { ThinId = new ThinId(ids[i]) }).ToList(),
            Deleted = Deleted.ToList(),
            DeletedUnrecorded = DeletedUnrecorded.ToList(),
            Replaced = Replaced.ToList(),
            Saved = Saved.ToList(),
            Forgotten = Forgotten.ToList(),
            NextId = next,
            SuspendedDevice = Suspend,
            Activate = Activate,
            Started = DateTimeOffset.UtcNow,
            ProcessId = Environment.ProcessId,
        };
        var sendsMessages = journal.SendsMessages;
        if (sendsMessages)
        {
            session.RefuseIfHandedOver(operation);
        }
        var poolDevice = session.LivePoolDevice();
        // A change without messages needs neither the transaction id nor an active pool.
        status ??= sendsMessages && poolDevice is not null ? session.Status() : null;
        journal = journal with { FromTransaction = status?.TransactionId ?? 0 };
        activated = new bool[Created.Count];
        devices = new DeviceInfo?[Created.Count];
        var pool = session.Pool.DevicePath;
        string Transaction(ulong step) => status is null ? (step == 0 ? "<n>" : "<n+1>") : (journal.FromTransaction + step).ToString(System.Globalization.CultureInfo.InvariantCulture);

        var plan = new Plan();
        plan.Add(JournalPhase, $"write the journal {store.JournalPath} ({operation})", () =>
        {
            store.WriteJournal(journal);
            FaultInjection.Step("journal-written");
        });
        var goingDevices = journal.Deleted.Concat(journal.Replaced).ToList();
        for (var i = 0; i < goingDevices.Count; i++)
        {
            var volume = goingDevices[i];
            var last = i == goingDevices.Count - 1;
            // Run builds its plan under the pool's lock: a device live now is live when the step runs.
            var live = session.LiveDevice(volume) is not null;
            plan.Add(DevicesPhase, live ? $"remove device /dev/mapper/{session.VolumeDeviceName(volume)}" : $"(no device of '{volume.Name}' to remove)", () =>
            {
                if (live) session.RemoveDevice(volume, knownLive: true);
                if (last) FaultInjection.Step("device-removed");
            });
        }
        if (Suspend is not null)
        {
            plan.Add(KernelPhase, $"suspend /dev/mapper/{Suspend}", () =>
            {
                session.Dm.Suspend(Suspend);
                suspended = true;
                FaultInjection.Step("origin-suspended");
            });
        }
        for (var i = 0; i < journal.Created.Count; i++)
        {
            var index = i;
            plan.Add(KernelPhase, () => $"message {pool} 0 {CreationMessage(journal.Created[index])}", () => SendCreation(index));
        }
        if (sendsMessages)
        {
            plan.Add(KernelPhase, () => $"message {pool} 0 set_transaction_id {Transaction(0)} {Transaction(1)}", () =>
            {
                session.Dm.SendMessage(session.Pool.DeviceName, PoolMessage.SetTransactionId(journal.FromTransaction, journal.FromTransaction + 1));
                FaultInjection.Step("transaction-set");
            });
        }
        foreach (var volume in journal.Deleted)
        {
            plan.Add(KernelPhase, $"message {pool} 0 {PoolMessage.Delete(new ThinId(volume.ThinId))}", () =>
            {
                DeleteThinId(session, volume.ThinId);
                FaultInjection.Step("thin-deleted");
            });
        }
        foreach (var id in journal.DeletedUnrecorded)
        {
            plan.Add(KernelPhase, $"message {pool} 0 {PoolMessage.Delete(new ThinId(id))}", () => DeleteThinId(session, id));
        }
        if (Suspend is not null)
        {
            plan.Add(KernelPhase, $"resume /dev/mapper/{Suspend}", () =>
            {
                session.Dm.Resume(Suspend);
                suspended = false;
                FaultInjection.Step("origin-resumed");
            });
        }
        if (Activate)
        {
            for (var i = 0; i < journal.Created.Count; i++)
            {
                var index = i;
                plan.Add(ActivationPhase, () => session.ActivationText(journal.Created[index], ReadOnly, poolDevice), () =>
                {
                    if (journal.Created.Count > 1)
                    {
                        host.Progress($"Activating {journal.Created.Count} thin devices in pool '{session.Pool.Name}'", $"'{journal.Created[index].Name}' ({index + 1} of {journal.Created.Count})", index * 100 / journal.Created.Count, completed: index == journal.Created.Count - 1);
                    }
                    devices[index] = session.Activate(journal.Created[index], ReadOnly);
                    activated[index] = true;
                });
            }
        }
        string Names(IEnumerable<VolumeRecord> volumes) => string.Join(", ", volumes.Select(v => $"'{v.Name}'"));
        var written = journal.Created.Concat(journal.Saved).ToList();
        var records = string.Join("; ", new[]
        {
            written.Count > 0 ? $"write the records of {Names(written)}" : null,
            journal.Deleted.Count > 0 ? $"delete the records of {Names(journal.Deleted)} (their data is lost; their snapshots stay)" : null,
            journal.Forgotten.Count > 0 ? $"delete the records of {Names(journal.Forgotten)}" : null,
        }.OfType<string>().Append($"clear the journal (under {store.Folder})"));
        plan.Add(RecordsPhase, records, () =>
        {
            store.Apply(CreatedNow.Concat(journal.Saved), journal.Deleted.Concat(journal.Forgotten));
            FaultInjection.Step("records-written");
            store.Finish(journal.NextId);
        });
        return plan;
    }

    /// <summary>After <see cref="Run"/>: the info of each new volume's device, as its creation returned it (null when not activated).</summary>
    public IReadOnlyList<DeviceInfo?> Devices => devices;

    // Set by the steps: an activated volume is recorded active.
    private IEnumerable<VolumeRecord> CreatedNow => journal.Created.Select((r, i) => activated[i] ? r with { Active = true } : r);

    /// <summary>Runs the change; returns the new volumes with their ids and active state.</summary>
    /// <param name="status">The pool's status when the caller has just read it.</param>
    public IReadOnlyList<VolumeRecord> Run(IOperationHost host, ThinPoolStatus? status = null)
    {
        this.host = host;
        var store = session.Volumes;
        if (store.ReadJournal() is not null)
        {
            // Prepare recovers a journal; one still here means a repair declined to finish it.
            throw new DmPowerShellException(ErrorIds.PoolUnhealthy, ErrorKind.InvalidState,
                $"Pool '{session.Pool.Name}' has an unfinished change; Repair-ThinPool '{session.Pool.Name}' completes or rolls it back first.", session.Pool.Name);
        }
        var plan = Plan(status);
        plan.Run(JournalPhase, host);
        try
        {
            plan.Run(DevicesPhase, host);
        }
        catch
        {
            // No message was sent: undoing keeps every volume, active as far as its device still is.
            Undo(session, journal);
            store.Finish(journal.NextId);
            throw;
        }
        try
        {
            plan.Run(KernelPhase, host);
        }
        catch
        {
            if (suspended) ResumeAfterFailure(Suspend!, host);
            throw;
        }
        finally
        {
            session.StatusChanged();
        }
        try
        {
            plan.Run(ActivationPhase, host);
            FaultInjection.Step("devices-created");
        }
        finally
        {
            // Activated or not (a failed activation is reported, the volume stays), the records say so.
            plan.Run(RecordsPhase, host);
        }
        return CreatedNow.ToList();
    }

    private PoolMessage CreationMessage(VolumeRecord volume) =>
        SnapshotOf is { } origin ? PoolMessage.CreateSnapshot(new ThinId(volume.ThinId), new ThinId(origin)) : PoolMessage.CreateThin(new ThinId(volume.ThinId));

    /// <summary>create_thin or create_snap for one new volume; an id the pool already holds is skipped, never reused.</summary>
    private void SendCreation(int index)
    {
        var created = journal.Created.ToList();
        while (true)
        {
            try
            {
                session.Dm.SendMessage(session.Pool.DeviceName, CreationMessage(created[index]));
                break;
            }
            catch (DeviceExistsException)
            {
                // The pool holds an id with no record (a loss elsewhere): never reuse it.
                host.Warning($"Pool '{session.Pool.Name}' already holds thin id {created[index].ThinId} without a record; skipping it (Test-ThinPool reports such ids).");
                var reserved = session.Volumes.ReserveIds(1, journal.NextId, taken: id => created.Any(c => c.ThinId == id));
                created[index] = created[index] with { ThinId = new ThinId(reserved.Ids[0]) };
                journal = journal with { Created = created.ToList(), NextId = reserved.Next };
                session.Volumes.WriteJournal(journal);
            }
        }
        if (created.Count > 1)
        {
            host.Progress($"Creating {created.Count} thin devices in pool '{session.Pool.Name}'", $"thin id {created[index].ThinId} ({index + 1} of {created.Count})", index * 100 / created.Count, completed: index == created.Count - 1);
        }
        FaultInjection.Step("thin-created");
    }

    /// <summary>Deletes a thin id; one already gone is fine (deleting is idempotent).</summary>
    private static void DeleteThinId(PoolSession session, uint id)
    {
        try
        {
            session.Dm.SendMessage(session.Pool.DeviceName, PoolMessage.Delete(new ThinId(id)));
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
}
