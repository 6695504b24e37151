using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Transactions;

/// <summary>
/// One command's hold on one of the module's own pools: the pool's record read once, its volume
/// store. <see cref="Prepare"/> (after the host said yes, so -WhatIf and a -Confirm prompt take
/// no lock) takes the pool's lock, resumes what a killed command left suspended, and finishes an
/// interrupted transaction and the deferred deletions whose devices have closed. Every change
/// of the pool's volumes runs inside one.
/// </summary>
public sealed class PoolSession : IDisposable
{
    private FileLock? poolLock;
    private ThinPoolStatus? status;
    private string? statusLine;
    private bool prepared;

    private readonly PoolService pools;

    private PoolSession(PoolRecord pool, PoolService pools, IDeviceMapper dm, bool overrideHandover)
    {
        Pool = pool;
        this.pools = pools;
        OverrideHandover = overrideHandover;
        Volumes = new VolumeStore(pools.Registry, pool.Name);
        Dm = dm;
    }

    public PoolRecord Pool { get; }
    public VolumeStore Volumes { get; }
    public IDeviceMapper Dm { get; }

    /// <summary>The live pool device, once <see cref="Prepare"/> has found it active.</summary>
    public DeviceNumber PoolDevice { get; private set; }

    /// <summary>
    /// Reads the pool's record. LVM pools are refused: LVM keeps their thin ids and transaction
    /// id, so the module never sends them thin messages.
    /// </summary>
    /// <param name="overrideHandover">-Force: change thin ids of a pool handed to a container runtime all the same.</param>
    public static PoolSession Open(PoolService pools, string pool, bool overrideHandover = false, IReadOnlySet<uint>? metadataThinIds = null,
        bool leaveJournalThePoolMovedPast = false)
    {
        var record = pools.Require(pool);
        pools.RequireOwnTable(record, $"Use LVM's commands for its volumes: lvcreate -T {record.VolumeGroup}/{record.LogicalVolume} -V <size> -n <name>, lvcreate -s, lvremove.");
        return new PoolSession(record, pools, pools.DeviceMapper, overrideHandover)
        {
            MetadataThinIds = metadataThinIds, LeaveJournalThePoolMovedPast = leaveJournalThePoolMovedPast,
        };
    }

    /// <summary>
    /// Activation only: a journal the pool has moved past is reported and kept for Repair-ThinPool
    /// instead of stopping the session (nothing it does depends on the journal's change).
    /// </summary>
    public bool LeaveJournalThePoolMovedPast { get; init; }

    public bool OverrideHandover { get; }

    /// <summary>
    /// The thin ids the pool's metadata holds, read by Repair-ThinPool before it prepares the
    /// session: a journal the pool has moved past (its transaction id neither the journal's nor
    /// one more) is then settled by them instead of refused.
    /// </summary>
    public IReadOnlySet<uint>? MetadataThinIds { get; init; }

    /// <summary>
    /// A runtime that keeps its own account of the pool's thin ids and transaction id (Docker
    /// compares its transaction id at every start: moby#15629) breaks when another manager moves
    /// them: a change of thin ids is refused on such a pool unless -Force.
    /// </summary>
    public void RefuseIfHandedOver(string operation)
    {
        if (OverrideHandover) return;
        var runtime = pools.RuntimeOf(Pool, LivePoolDevice());
        if (runtime == PoolRuntime.None) return;
        var why = Pool.HandedTo == runtime ? "Set-ThinPool -HandedTo says so" : $"{runtime}'s devices are active on it";
        throw new DmPowerShellException(ErrorIds.PoolHandedOver, ErrorKind.InvalidState,
            $"Pool '{Pool.Name}' is handed to {runtime} ({why}): {runtime} keeps its own account of the pool's thin ids and transaction id, and a {operation} by the module would break it. " +
            $"Use {runtime}'s own commands, add -Force to do it all the same, or take the pool back with Set-ThinPool '{Pool.Name}' -HandedTo None.", Pool.Name);
    }

    /// <summary>
    /// Takes the pool's lock only: for repairs of records, which need no active pool and must
    /// not finish a change the user declined to finish.
    /// </summary>
    public PoolSession Lock()
    {
        TakeLock();
        return this;
    }

    private void TakeLock()
    {
        if (poolLock is not null) return;
        poolLock = pools.Registry.LockPool(Pool.Name);
        Volumes.Hold();
    }

    /// <summary>Takes the pool's lock, requires the pool active, then completes or rolls back whatever an interrupted command left.</summary>
    public PoolSession Prepare(IOperationHost host)
    {
        TakeLock();
        // The pool's info and status in one ioctl: most changes need both.
        var live = Dm.GetInfoAndStatus(Pool.DeviceName);
        if (live is not { } found || found.Info.Uuid != Pool.Uuid)
        {
            throw new DmPowerShellException(ErrorIds.PoolInactive, ErrorKind.InvalidState,
                $"Pool '{Pool.Name}' is not active; Enable-ThinPool '{Pool.Name}' first.", Pool.Name);
        }
        var info = found.Info;
        PoolDevice = info.Device;
        prepared = true;
        // Parsed when a change asks for it (a pool too broken to parse still resumes and recovers).
        statusLine = found.Status is [{ TargetType: "thin-pool" } target] ? target.Parameters : null;
        ResumeIfLeftSuspended(Pool.DeviceName, host, info);
        ReleaseMetadataSnapshotLeftHeld(host);
        // A journal left for Repair-ThinPool (activation only) blocks every transaction: the
        // deferred deletions wait for the repair too.
        var settled = Volumes.ReadJournal() is not { } journal || PoolTransaction.Recover(this, journal, host);
        if (settled) FinishDeferredDeletions(host);
        return this;
    }

    /// <summary>
    /// The module reserves a metadata snapshot only under the pool's lock and releases it before
    /// letting go (Get-ThinVolume -Usage, Compare-ThinVolume, Test-ThinPool): one held now was left
    /// by a killed command, and would keep holding metadata blocks.
    /// </summary>
    private void ReleaseMetadataSnapshotLeftHeld(IOperationHost host)
    {
        ulong? held;
        try
        {
            held = Status().HeldMetadataRoot;
        }
        catch (FormatException)
        {
            return; // a status this module cannot read: nothing to conclude
        }
        if (held is null) return;
        host.Warning($"Releasing the metadata snapshot of pool '{Pool.Name}' (root {held}), left held by an interrupted command.");
        Dm.SendMessage(Pool.DeviceName, PoolMessage.ReleaseMetadataSnapshot());
        StatusChanged();
    }

    public void Dispose() => poolLock?.Dispose();

    /// <summary>The live pool's device number, or null while it is inactive (for plans shown before <see cref="Prepare"/>).</summary>
    public DeviceNumber? LivePoolDevice() => prepared ? PoolDevice : Dm.GetInfo(Pool.DeviceName) is { } info && info.Uuid == Pool.Uuid ? info.Device : null;

    /// <summary>
    /// The pool's status without committing its metadata: as <see cref="Prepare"/> read it until a
    /// change sends messages (<see cref="StatusChanged"/>), then read afresh. Under the pool's lock
    /// only this command moves the transaction id; the space figures are as fresh as one command.
    /// </summary>
    public ThinPoolStatus Status() => status ??= ThinPoolStatus.Parse(statusLine ?? Dm.GetStatus(Pool.DeviceName, noFlush: true).Single().Parameters);

    /// <summary>Messages were sent: the next <see cref="Status"/> reads the kernel again.</summary>
    public void StatusChanged()
    {
        status = null;
        statusLine = null;
    }

    /// <summary>Reading the status without no-flush commits the pool's metadata: the change is durable.</summary>
    public void CommitMetadata()
    {
        Dm.GetStatus(Pool.DeviceName);
        StatusChanged();
    }

    public string VolumeDeviceName(VolumeRecord volume) => Naming.VolumeDeviceName(Pool.Name, volume.Name);

    /// <summary>The volume's live dm device, when it is active (same name and this volume's uuid).</summary>
    public DeviceInfo? LiveDevice(VolumeRecord volume) =>
        Dm.GetInfo(VolumeDeviceName(volume)) is { } info && info.Uuid == Naming.VolumeUuid(Pool.Id, volume.ThinId) ? info : null;

    /// <summary>The volume's live device and the bytes it maps (null when its status is not readable), from one ioctl; null when it is not active.</summary>
    public (DeviceInfo Info, long? MappedBytes)? LiveVolume(VolumeRecord volume) =>
        Dm.GetThinDevice(VolumeDeviceName(volume), Naming.VolumeUuid(Pool.Id, volume.ThinId));

    /// <summary>What <see cref="Activate"/> does, as -WhatIf and -Verbose say it.</summary>
    /// <param name="poolDevice">The live pool's device number, when known.</param>
    public string ActivationText(VolumeRecord volume, bool readOnly, DeviceNumber? poolDevice = null) =>
        $"create device /dev/mapper/{VolumeDeviceName(volume)} uuid {Naming.VolumeUuid(Pool.Id, volume.ThinId)}{(readOnly || volume.ReadOnly ? " read-only" : "")}{Environment.NewLine}" +
        $"load table: 0 {Sectors.FromBytes(volume.Size)} thin {poolDevice?.ToString() ?? "<pool major:minor>"} {volume.ThinId}";

    /// <summary>Creates the volume's device: its thin table over the live pool. Returns the new device's info.</summary>
    public DeviceInfo? Activate(VolumeRecord volume, bool readOnly)
    {
        var target = new ThinTable(PoolDevice.ToString(), new ThinId(volume.ThinId)).ToTarget(Sectors.FromBytes(volume.Size));
        return Dm.Create(VolumeDeviceName(volume), Naming.VolumeUuid(Pool.Id, volume.ThinId), new[] { target }, readOnly || volume.ReadOnly);
    }

    /// <summary>Removes the volume's device when it is active; a busy one is explained.</summary>
    /// <param name="knownLive">The caller has just seen it live under the pool's lock: no need to ask again.</param>
    public void RemoveDevice(VolumeRecord volume, bool knownLive = false)
    {
        if (!knownLive && LiveDevice(volume) is null)
        {
            return;
        }
        var name = VolumeDeviceName(volume);
        try
        {
            Dm.Remove(name);
        }
        catch (DeviceNotFoundException) when (knownLive)
        {
            // Gone since: what this step wanted.
        }
        catch (DeviceBusyException e)
        {
            throw DeviceBusy.Explain(Dm, name, e);
        }
    }

    /// <summary>
    /// Only a command holding the pool's lock suspends the pool or its devices: one found suspended
    /// under that lock was left by a killed command, and is resumed.
    /// </summary>
    public void ResumeIfLeftSuspended(string deviceName, IOperationHost host, DeviceInfo? info = null) =>
        PoolService.ResumeIfLeftSuspended(Dm, deviceName, host, info);

    /// <summary>
    /// Deletions deferred because their device was busy: once the kernel has removed the device
    /// (its last opener closed it), the thin id is deleted. Every command that takes the pool's
    /// lock does this first, so no daemon is needed.
    /// </summary>
    private void FinishDeferredDeletions(IOperationHost host)
    {
        foreach (var id in Volumes.PendingDeletions())
        {
            var record = Volumes.FindById(id);
            if (record is not null && LiveDevice(record) is not null)
            {
                continue; // still open somewhere: next time
            }
            if (record is not null)
            {
                host.Verbose($"finish the deferred deletion of '{record.Name}' (thin id {id})");
                new PoolTransaction(this, "deferred removal") { Deleted = { record with { Active = false } } }.Run(host);
            }
            Volumes.RemovePendingDeletion(id);
        }
    }
}
