using System.Text;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Volumes;

/// <summary>
/// Thin volumes and snapshots. Every change to a pool's thin ids is one transaction: a journal
/// written first, the kernel messages, the pool's transaction id moved on by one, a metadata
/// commit, the records, the journal cleared. A process killed anywhere in between leaves a
/// state that the next command on the pool completes or rolls back (<see cref="Recover"/>).
/// </summary>
public sealed class VolumeService
{
    public static readonly string[] FileSystems = { "ext4", "xfs" };

    private readonly PoolService pools;
    private readonly DeviceMapperClient dm;

    public VolumeService(PoolService pools, DeviceMapperClient? client = null)
    {
        this.pools = pools;
        dm = client ?? DeviceMapperClient.Shared;
    }

    // ---------------------------------------------------------------- sessions

    /// <summary>An active pool under its lock, with its journal recovered.</summary>
    private sealed class Session : IDisposable
    {
        private readonly FileLock poolLock;

        public Session(PoolRecord record, VolumeStore store, FileLock poolLock, DeviceNumber device)
        {
            Record = record;
            Store = store;
            this.poolLock = poolLock;
            PoolDevice = device;
        }

        public PoolRecord Record { get; }
        public VolumeStore Store { get; }
        public DeviceNumber PoolDevice { get; }

        public void Dispose() => poolLock.Dispose();
    }

    /// <summary>A pool whose thin ids the module allocates: never an LVM pool, whose ids LVM keeps.</summary>
    private PoolRecord RequireOwnPool(string pool)
    {
        var record = pools.Require(pool);
        PoolService.RefuseLvm(record, $"Use LVM's commands for its volumes: lvcreate -T {record.VolumeGroup}/{record.LogicalVolume} -V <size> -n <name>, lvcreate -s, lvremove.");
        return record;
    }

    private Session Open(string pool, IOperationHost host)
    {
        var record = RequireOwnPool(pool);
        var poolLock = pools.Registry.LockPool(pool);
        try
        {
            var info = dm.GetInfo(record.DeviceName);
            if (info is null || info.Uuid != record.Uuid)
            {
                throw new DmPowerShellException(ErrorIds.PoolInactive, ErrorKind.InvalidState,
                    $"Pool '{pool}' is not active; Enable-ThinPool '{pool}' first.", pool);
            }
            pools.ResumeIfLeftSuspended(record.DeviceName, host, info);
            var session = new Session(record, new VolumeStore(pools.Registry, pool), poolLock, info.Device);
            Recover(session, host);
            FinishDeferredDeletions(session, host);
            return session;
        }
        catch
        {
            poolLock.Dispose();
            throw;
        }
    }

    private ThinPoolStatus Status(Session session, bool commit = false) =>
        ThinPoolStatus.Parse(dm.GetStatus(session.Record.DeviceName, noFlush: !commit).Single().Parameters);

    /// <summary>Reading the status without no-flush commits the pool's metadata: the change is durable.</summary>
    private void Commit(Session session, IOperationHost host)
    {
        host.Verbose($"commit the metadata of pool '{session.Record.Name}'");
        Status(session, commit: true);
    }

    private void SetTransaction(Session session, ulong from, IOperationHost host)
    {
        var message = PoolMessage.SetTransactionId(from, from + 1);
        host.Verbose($"message {session.Record.DevicePath} 0 {message}");
        dm.SendMessage(session.Record.DeviceName, message);
    }

    /// <summary>Completes or rolls back what an interrupted command left (opening a session does it).</summary>
    public void Recover(string pool, IOperationHost host)
    {
        using var session = Open(pool, host);
    }

    /// <summary>Deletes a thin id that has no record (Repair-ThinPool -DeleteUnrecorded), as one transaction.</summary>
    public void DeleteUnrecordedThinId(string pool, uint id, IOperationHost host)
    {
        using var session = Open(pool, host);
        if (session.Store.FindById(id) is not null)
        {
            throw new DmPowerShellException(ErrorIds.InvalidSetting, ErrorKind.InvalidState, $"Thin id {id} of pool '{pool}' has a record now; it is not deleted.", id);
        }
        var status = Status(session);
        DeleteThinId(session, id, host);
        SetTransaction(session, status.TransactionId, host);
        Commit(session, host);
    }

    /// <summary>Completes or rolls back a change that a killed process left half done.</summary>
    private void Recover(Session session, IOperationHost host)
    {
        var journal = session.Store.ReadJournal();
        if (journal is null)
        {
            return;
        }
        var pool = session.Record;
        if (journal.SuspendedDevice is { } suspended && dm.GetInfo(suspended) is { Suspended: true })
        {
            host.Warning($"Resuming {suspended}, left suspended by an interrupted command (pid {journal.ProcessId}).");
            dm.Resume(suspended);
        }
        var transaction = Status(session).TransactionId;
        var forward = transaction == journal.FromTransaction + 1;
        if (!forward && transaction != journal.FromTransaction)
        {
            throw new DmPowerShellException(ErrorIds.PoolUnhealthy, ErrorKind.InvalidState,
                $"Pool '{pool.Name}' has transaction id {transaction}, but its journal expects {journal.FromTransaction} or {journal.FromTransaction + 1}: something else changed the pool. Repair-ThinPool can reconcile it.", pool.Name);
        }
        host.Warning($"{(forward ? "Completing" : "Rolling back")} an interrupted {journal.Operation} of {string.Join(", ", journal.Records.Select(r => $"'{r.Name}'"))} in pool '{pool.Name}' (pid {journal.ProcessId}).");
        foreach (var record in journal.Records)
        {
            var create = journal.Operation == PoolJournal.Create;
            if (create && forward)
            {
                session.Store.Save(record with { Active = LiveDevice(pool, record) is not null });
                continue;
            }
            // A rolled-back creation, or a committed deletion: the thin id must go, and its device.
            if (create || forward)
            {
                RemoveDeviceOf(pool, record, host);
                DeleteThinId(session, record.ThinId, host);
                if (!create)
                {
                    session.Store.Delete(record);
                }
            }
            else
            {
                // A rolled-back deletion: the volume stays, active only if its device still is.
                session.Store.Save(record with { Active = LiveDevice(pool, record) is not null });
            }
        }
        Commit(session, host);
        session.Store.ClearJournal();
    }

    /// <summary>The volume's live dm device, when it is active (same name and this volume's uuid).</summary>
    private DeviceInfo? LiveDevice(PoolRecord pool, VolumeRecord record) =>
        dm.GetInfo(Naming.VolumeDeviceName(pool.Name, record.Name)) is { } info && info.Uuid == Naming.VolumeUuid(pool.Id, record.ThinId) ? info : null;

    private void DeleteThinId(Session session, uint id, IOperationHost host)
    {
        var message = PoolMessage.Delete(new ThinId(id));
        host.Verbose($"message {session.Record.DevicePath} 0 {message}");
        try
        {
            dm.SendMessage(session.Record.DeviceName, message);
        }
        catch (DeviceMapperException e) when (e.Errno == Errno.ENODATA)
        {
            // Already gone: deleting is idempotent.
        }
    }

    private void RemoveDeviceOf(PoolRecord pool, VolumeRecord record, IOperationHost host)
    {
        var name = Naming.VolumeDeviceName(pool.Name, record.Name);
        if (LiveDevice(pool, record) is not null)
        {
            host.Verbose($"remove device /dev/mapper/{name}");
            try
            {
                dm.Remove(name);
            }
            catch (DeviceBusyException e)
            {
                throw pools.Busy(name, e);
            }
        }
    }

    // ---------------------------------------------------------------- checks

    private static void CheckName(PoolRecord pool, string name)
    {
        var problem = Naming.Check(name, "volume");
        if (problem is null && Naming.VolumeDeviceName(pool.Name, name).Length > Naming.MaxDeviceNameLength)
        {
            problem = $"The volume name '{name}' is too long: its device-mapper name '{Naming.VolumeDeviceName(pool.Name, name)}' would be {Naming.VolumeDeviceName(pool.Name, name).Length} characters, over dm's {Naming.MaxDeviceNameLength}.";
        }
        if (problem is not null)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidName, problem, name);
        }
    }

    public static void CheckSize(long size)
    {
        if (size <= 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSize, $"A volume's size must be positive; {size} bytes is not.", size);
        }
        if (size % DmTarget.SectorSize != 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSize, $"A volume's size must be a multiple of 512 bytes (a sector); {size} bytes is not. Use {ByteSize.Format(PoolRules.RoundUp(size, DmTarget.SectorSize))}.", size);
        }
    }

    private void CheckNameFree(Session session, string name)
    {
        if (session.Store.NameTaken(name))
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists, $"Pool '{session.Record.Name}' already has a volume named '{name}'.", name);
        }
        var deviceName = Naming.VolumeDeviceName(session.Record.Name, name);
        if (dm.GetInfo(deviceName) is { } other)
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists,
                $"A device-mapper device named '{deviceName}' already exists (uuid '{other.Uuid}'); choose another volume name.", name);
        }
    }

    /// <summary>Refuses new thin devices in a pool that is failed, read-only, needs a check, or is under its minimum free space.</summary>
    private void CheckPoolCanGrow(Session session, ThinPoolStatus status)
    {
        var name = session.Record.Name;
        if (status.Health != TargetHealth.Ok || status.Mode != PoolMode.ReadWrite || status.NeedsCheck == true)
        {
            var state = status.Health != TargetHealth.Ok ? status.Health.ToString() : status.NeedsCheck == true ? "needs_check" : status.Mode.ToString();
            throw new DmPowerShellException(ErrorIds.PoolUnhealthy, ErrorKind.InvalidState,
                $"Pool '{name}' is {state}: it takes no new volumes. Get-PoolStatus '{name}' shows why; Resize-ThinPool adds space, Repair-ThinPool checks metadata.", name);
        }
        var minimum = session.Record.MinimumFreeSpacePercent;
        var dataFree = 100.0 * (status.TotalDataBlocks - status.UsedDataBlocks) / Math.Max(1, status.TotalDataBlocks);
        var metaFree = 100.0 * (status.TotalMetadataBlocks - status.UsedMetadataBlocks) / Math.Max(1, status.TotalMetadataBlocks);
        if (dataFree < minimum || metaFree < minimum)
        {
            var which = dataFree < minimum ? $"data space is {dataFree:0.#}% free" : $"metadata space is {metaFree:0.#}% free";
            throw new DmPowerShellException(ErrorIds.PoolLowOnSpace, ErrorKind.Unavailable,
                $"Pool '{name}' refuses new volumes: its {which}, under its minimum of {minimum}%. Grow it with Resize-ThinPool, or remove volumes.", name);
        }
    }

    // ---------------------------------------------------------------- create

    /// <summary>A new thin volume (the guide's "base device"), optionally active and formatted.</summary>
    public ThinVolume? Create(string pool, string name, long size, string? fileSystem, bool activate, IOperationHost host)
    {
        var poolRecord = RequireOwnPool(pool);
        CheckName(poolRecord, name);
        CheckSize(size);
        if (fileSystem is not null && !FileSystems.Contains(fileSystem))
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSetting, $"-FileSystem takes {string.Join(" or ", FileSystems)}; '{fileSystem}' is not one of them.", fileSystem);
        }
        var deviceName = Naming.VolumeDeviceName(pool, name);
        var plan = new StringBuilder()
            .AppendLine($"message {poolRecord.DevicePath} 0 create_thin <id>")
            .AppendLine($"message {poolRecord.DevicePath} 0 set_transaction_id <n> <n+1>");
        if (activate || fileSystem is not null)
        {
            plan.AppendLine($"create device /dev/mapper/{deviceName} uuid {Naming.VolumeUuid(poolRecord.Id, 0)[..^1]}<id>");
            plan.AppendLine($"load table: 0 {size / DmTarget.SectorSize} thin <pool major:minor> <id>");
        }
        if (fileSystem is not null) plan.AppendLine($"mkfs.{fileSystem} /dev/mapper/{deviceName}");
        plan.Append($"write record {Path.Combine(pools.Registry.PoolFolder(pool), "volumes", "<id>.json")}");
        if (!host.ShouldProcess($"thin volume '{name}' ({ByteSize.Format(size)}) in pool '{pool}'", "Create", plan.ToString()))
        {
            return null;
        }

        using var session = Open(pool, host);
        FaultInjection.Begin("create");
        CheckNameFree(session, name);
        var status = Status(session);
        CheckPoolCanGrow(session, status);
        var record = new VolumeRecord
        {
            Name = name,
            Size = size,
            Created = DateTimeOffset.UtcNow,
            FileSystem = fileSystem,
        };
        record = CommitCreation(session, status.TransactionId, new[] { record }, null, activate || fileSystem is not null, readOnly: false, host,
            (r, id) => PoolMessage.CreateThin(new ThinId(id)))[0];
        return Finish(session, new[] { record }, fileSystem, host)[0];
    }

    /// <summary>Snapshots of one origin, to any depth; the origin, if active, is suspended once for all of them.</summary>
    public IReadOnlyList<ThinVolume> Snapshot(string pool, string origin, IReadOnlyList<string> names, bool activate, bool readOnly, IOperationHost host)
    {
        var poolRecord = RequireOwnPool(pool);
        foreach (var name in names) CheckName(poolRecord, name);
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists, $"The name '{duplicate.Key}' is given twice; give each snapshot its own name.", duplicate.Key);
        }
        var store = new VolumeStore(pools.Registry, pool);
        var originRecord = store.Find(origin) ?? throw VolumeNotFound(pool, origin);
        var originDevice = Naming.VolumeDeviceName(pool, origin);
        var plan = new StringBuilder();
        plan.AppendLine($"suspend /dev/mapper/{originDevice} if it is active");
        foreach (var _ in names) plan.AppendLine($"message {poolRecord.DevicePath} 0 create_snap <id> {originRecord.ThinId}");
        plan.AppendLine($"message {poolRecord.DevicePath} 0 set_transaction_id <n> <n+1>");
        plan.AppendLine($"resume /dev/mapper/{originDevice} if it was active");
        if (activate)
        {
            foreach (var name in names)
                plan.AppendLine($"create device /dev/mapper/{Naming.VolumeDeviceName(pool, name)}{(readOnly ? " read-only" : "")}: 0 {originRecord.Size / DmTarget.SectorSize} thin <pool major:minor> <id>");
        }
        plan.Append($"write {names.Count} record(s) under {Path.Combine(pools.Registry.PoolFolder(pool), "volumes")}");
        if (!host.ShouldProcess($"snapshot{(names.Count > 1 ? "s" : "")} {string.Join(", ", names.Select(n => $"'{n}'"))} of '{origin}' in pool '{pool}'", "Create", plan.ToString()))
        {
            return Array.Empty<ThinVolume>();
        }

        using var session = Open(pool, host);
        FaultInjection.Begin("snapshot");
        originRecord = session.Store.Find(origin) ?? throw VolumeNotFound(pool, origin);
        foreach (var name in names) CheckNameFree(session, name);
        var status = Status(session);
        CheckPoolCanGrow(session, status);
        var lineage = new[] { new Ancestor(originRecord.ThinId, originRecord.Name) }.Concat(originRecord.Lineage).ToList();
        var records = names.Select(name => new VolumeRecord
        {
            Name = name,
            Size = originRecord.Size,
            OriginId = originRecord.ThinId,
            Lineage = lineage,
            ReadOnly = readOnly,
            FileSystem = originRecord.FileSystem,
            Created = DateTimeOffset.UtcNow,
        }).ToList();
        var originActive = LiveDevice(poolRecord, originRecord) is not null;
        var created = CommitCreation(session, status.TransactionId, records, originActive ? originDevice : null, activate, readOnly, host,
            (r, id) => PoolMessage.CreateSnapshot(new ThinId(id), new ThinId(originRecord.ThinId)));
        return Finish(session, created, null, host);
    }

    /// <summary>
    /// The transaction that creates thin ids: journal, messages, transaction id, commit, then the
    /// devices (when activating) and the records, written once with their live state. Until the
    /// journal is cleared, the next command's recovery records whatever is live.
    /// </summary>
    private IReadOnlyList<VolumeRecord> CommitCreation(Session session, ulong transaction, IReadOnlyList<VolumeRecord> records,
        string? suspend, bool activate, bool readOnly, IOperationHost host, Func<VolumeRecord, uint, PoolMessage> message)
    {
        var ids = session.Store.AllocateIds(records.Count);
        var assigned = records.Select((r, i) => r with { ThinId = ids[i] }).ToList();
        var journal = new PoolJournal
        {
            Operation = PoolJournal.Create,
            FromTransaction = transaction,
            Records = assigned,
            SuspendedDevice = suspend,
            Started = DateTimeOffset.UtcNow,
            ProcessId = Environment.ProcessId,
        };
        session.Store.WriteJournal(journal);
        FaultInjection.Step("journal-written");
        if (suspend is not null)
        {
            host.Verbose($"suspend /dev/mapper/{suspend}");
            dm.Suspend(suspend);
            FaultInjection.Step("origin-suspended");
        }
        try
        {
            for (var i = 0; i < assigned.Count; i++)
            {
                if (assigned.Count > 1)
                {
                    host.Progress($"Creating {assigned.Count} thin devices in pool '{session.Record.Name}'", $"thin id {assigned[i].ThinId} ({i + 1} of {assigned.Count})", i * 100 / assigned.Count, completed: i == assigned.Count - 1);
                }
                while (true)
                {
                    var text = message(assigned[i], assigned[i].ThinId);
                    host.Verbose($"message {session.Record.DevicePath} 0 {text}");
                    try
                    {
                        dm.SendMessage(session.Record.DeviceName, text);
                        break;
                    }
                    catch (DeviceExistsException)
                    {
                        // The pool holds an id with no record (a loss elsewhere): never reuse it.
                        host.Warning($"Pool '{session.Record.Name}' already holds thin id {assigned[i].ThinId} without a record; skipping it (Test-ThinPool reports such ids).");
                        session.Store.SkipId(assigned[i].ThinId);
                        assigned[i] = assigned[i] with { ThinId = session.Store.AllocateId() };
                        journal = journal with { Records = assigned.ToList() };
                        session.Store.WriteJournal(journal);
                    }
                }
                FaultInjection.Step("thin-created");
            }
            SetTransaction(session, transaction, host);
            FaultInjection.Step("transaction-set");
        }
        catch
        {
            if (suspend is not null) ResumeAfterFailure(suspend, host);
            throw;
        }
        if (suspend is not null)
        {
            host.Verbose($"resume /dev/mapper/{suspend}");
            dm.Resume(suspend);
            FaultInjection.Step("origin-resumed");
        }
        Commit(session, host);
        try
        {
            if (activate) ActivateAll(session, assigned, readOnly, host);
            FaultInjection.Step("devices-created");
        }
        finally
        {
            // Activated or not (a failed activation is reported, the volume stays), the records say so.
            foreach (var record in assigned)
            {
                session.Store.Save(record);
            }
            FaultInjection.Step("records-written");
            session.Store.ClearJournal();
        }
        return assigned;
    }

    /// <summary>Creates the devices of new volumes, marking each one active as it appears.</summary>
    private void ActivateAll(Session session, List<VolumeRecord> records, bool readOnly, IOperationHost host)
    {
        var activity = $"Activating {records.Count} thin devices in pool '{session.Record.Name}'";
        for (var i = 0; i < records.Count; i++)
        {
            if (records.Count > 1)
            {
                host.Progress(activity, $"'{records[i].Name}' ({i + 1} of {records.Count})", i * 100 / records.Count);
            }
            Activate(session, records[i], readOnly, host);
            records[i] = records[i] with { Active = true };
        }
        if (records.Count > 1)
        {
            host.Progress(activity, "done", 100, completed: true);
        }
    }

    private void ResumeAfterFailure(string device, IOperationHost host)
    {
        try
        {
            host.Verbose($"resume /dev/mapper/{device}");
            dm.Resume(device);
        }
        catch (DeviceMapperException e)
        {
            host.Warning($"Could not resume /dev/mapper/{device} after a failed snapshot: {e.Message}. The next command on the pool tries again.");
        }
    }

    /// <summary>Formatting (after the records are written: mkfs is long) and the objects returned.</summary>
    private IReadOnlyList<ThinVolume> Finish(Session session, IReadOnlyList<VolumeRecord> records, string? fileSystem, IOperationHost host)
    {
        var result = new List<ThinVolume>();
        foreach (var record in records)
        {
            if (fileSystem is not null)
            {
                Format(session.Record, record, fileSystem, host);
            }
            result.Add(Describe(session.Record, record, session.Store));
        }
        return result;
    }

    private void Activate(Session session, VolumeRecord record, bool readOnly, IOperationHost host)
    {
        var name = Naming.VolumeDeviceName(session.Record.Name, record.Name);
        var target = new ThinTable(session.PoolDevice.ToString(), new ThinId(record.ThinId)).ToTarget((ulong)record.Size / DmTarget.SectorSize);
        host.Verbose($"create device /dev/mapper/{name} uuid {Naming.VolumeUuid(session.Record.Id, record.ThinId)}{(readOnly ? " read-only" : "")}");
        host.Verbose($"load table: {target}");
        dm.Create(name, Naming.VolumeUuid(session.Record.Id, record.ThinId), new[] { target }, readOnly || record.ReadOnly);
    }

    private static void Format(PoolRecord pool, VolumeRecord record, string fileSystem, IOperationHost host)
    {
        var path = $"/dev/mapper/{Naming.VolumeDeviceName(pool.Name, record.Name)}";
        host.Progress($"Formatting '{record.Name}'", $"mkfs.{fileSystem} {path}", -1);
        host.Verbose($"mkfs.{fileSystem} {path}");
        var arguments = fileSystem == "xfs" ? new[] { "-q", path } : new[] { "-q", "-F", path };
        var result = ExternalTool.Run($"mkfs.{fileSystem}", arguments);
        host.Progress($"Formatting '{record.Name}'", "done", 100, completed: true);
        if (result.ExitCode != 0)
        {
            throw new DmPowerShellException(ErrorIds.FormatFailed, ErrorKind.OperationFailed,
                $"mkfs.{fileSystem} {path} failed (exit {result.ExitCode}): {result.Error.Trim()} The volume exists, unformatted.", record.Name);
        }
    }

    // ---------------------------------------------------------------- queries

    private static DmPowerShellException VolumeNotFound(string pool, string name) =>
        new(ErrorIds.VolumeNotFound, ErrorKind.NotFound, $"Pool '{pool}' has no volume named '{name}'. Get-ThinVolume -Pool '{pool}' lists them.", name);

    /// <summary>Volumes of one pool or all pools, filtered by a name predicate and an origin name.</summary>
    public IReadOnlyList<ThinVolume> List(string? pool, Func<string, bool>? name = null, string? origin = null)
    {
        var result = new List<ThinVolume>();
        var poolRecords = pool is null ? pools.Registry.ListPools().ToList() : new List<PoolRecord> { pools.Require(pool) };
        foreach (var poolRecord in poolRecords)
        {
            var store = new VolumeStore(pools.Registry, poolRecord.Name);
            var records = store.List();
            uint? originId = null;
            if (origin is not null)
            {
                originId = records.FirstOrDefault(r => r.Name == origin)?.ThinId;
                if (originId is null) continue;
            }
            var byId = records.ToDictionary(r => r.ThinId);
            foreach (var record in records)
            {
                if ((name is null || name(record.Name)) && (originId is null || record.OriginId == originId))
                {
                    result.Add(Describe(poolRecord, record, byId));
                }
            }
        }
        return result;
    }

    public ThinVolume Get(string pool, string name)
    {
        var store = new VolumeStore(pools.Registry, pool);
        var record = store.Find(name) ?? throw VolumeNotFound(pool, name);
        return Describe(pools.Require(pool), record, store);
    }

    private ThinVolume Describe(PoolRecord pool, VolumeRecord record, VolumeStore store) =>
        Describe(pool, record, record.Lineage.Select(a => store.FindById(a.ThinId)).OfType<VolumeRecord>().ToDictionary(r => r.ThinId));

    private ThinVolume Describe(PoolRecord pool, VolumeRecord record, IReadOnlyDictionary<uint, VolumeRecord> known)
    {
        var deviceName = Naming.VolumeDeviceName(pool.Name, record.Name);
        var uuid = Naming.VolumeUuid(pool.Id, record.ThinId);
        // One ioctl per volume: its info and its status together.
        var live = dm.GetInfoAndStatus(deviceName);
        var info = live is { } l && l.Info.Uuid == uuid ? l.Info : null;
        var active = info is not null;
        long? mapped = null;
        if (active && live!.Value.Status is [{ TargetType: "thin" } target])
        {
            var status = ThinDeviceStatus.Parse(target.Parameters);
            if (status.Health == TargetHealth.Ok) mapped = (long)status.MappedBytes;
        }
        var chain = record.Lineage.Select(a => known.TryGetValue(a.ThinId, out var r) ? r.Name : "(removed)").ToList();
        return new ThinVolume
        {
            Name = record.Name,
            Pool = pool.Name,
            ThinId = record.ThinId,
            Size = record.Size,
            OriginId = record.OriginId,
            Origin = record.OriginId is null ? null : chain.FirstOrDefault(),
            Chain = chain,
            Active = active,
            ReadOnly = active ? info!.ReadOnly : record.ReadOnly,
            DeviceName = deviceName,
            DevicePath = $"/dev/mapper/{deviceName}",
            Device = active ? info!.Device.ToString() : null,
            MappedBytes = mapped,
            UsedPercent = mapped is null ? null : Math.Round(100.0 * mapped.Value / record.Size, 2),
            FileSystem = record.FileSystem,
            PendingDeletion = new VolumeStore(pools.Registry, pool.Name).IsPendingDeletion(record.ThinId),
            Created = record.Created,
            Uuid = uuid,
            StateRoot = pools.Registry.Root,
        };
    }

    // ---------------------------------------------------------------- activate / deactivate

    public ThinVolume? Enable(string pool, string name, bool readOnly, IOperationHost host)
    {
        var poolRecord = RequireOwnPool(pool);
        var plan = $"create device /dev/mapper/{Naming.VolumeDeviceName(pool, name)}{(readOnly ? " read-only" : "")}";
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Enable", plan))
        {
            return null;
        }
        using var session = Open(pool, host);
        var record = session.Store.Find(name) ?? throw VolumeNotFound(pool, name);
        var info = dm.GetInfo(Naming.VolumeDeviceName(pool, name));
        if (info is null)
        {
            Activate(session, record, readOnly, host);
        }
        else if (info.Uuid != Naming.VolumeUuid(poolRecord.Id, record.ThinId))
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists,
                $"Another device named '{info.Name}' (uuid '{info.Uuid}') is active; remove it before enabling '{name}'.", name);
        }
        session.Store.Save(record with { Active = true });
        return Describe(poolRecord, record, session.Store);
    }

    public bool Disable(string pool, string name, IOperationHost host)
    {
        RequireOwnPool(pool);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Disable", $"remove device /dev/mapper/{Naming.VolumeDeviceName(pool, name)}"))
        {
            return false;
        }
        using var session = Open(pool, host);
        var record = session.Store.Find(name) ?? throw VolumeNotFound(pool, name);
        RemoveDeviceOf(session.Record, record, host);
        session.Store.Save(record with { Active = false });
        return true;
    }

    /// <summary>After the pool itself came up: the volumes recorded as active come back.</summary>
    internal void ActivateRecorded(PoolRecord pool, IOperationHost host)
    {
        using var session = Open(pool.Name, host);
        foreach (var record in session.Store.List().Where(r => r.Active))
        {
            if (dm.GetInfo(Naming.VolumeDeviceName(pool.Name, record.Name)) is null)
            {
                Activate(session, record, record.ReadOnly, host);
            }
        }
    }

    // ---------------------------------------------------------------- rename / resize / remove

    public ThinVolume? Rename(string pool, string name, string newName, IOperationHost host)
    {
        var poolRecord = RequireOwnPool(pool);
        CheckName(poolRecord, newName);
        var oldDevice = Naming.VolumeDeviceName(pool, name);
        var newDevice = Naming.VolumeDeviceName(pool, newName);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Rename", $"rename /dev/mapper/{oldDevice} to /dev/mapper/{newDevice} if active{Environment.NewLine}point the name '{newName}' at the record"))
        {
            return null;
        }
        using var session = Open(pool, host);
        var record = session.Store.Find(name) ?? throw VolumeNotFound(pool, name);
        CheckNameFree(session, newName);
        if (LiveDevice(poolRecord, record) is not null)
        {
            host.Verbose($"rename /dev/mapper/{oldDevice} to /dev/mapper/{newDevice}");
            dm.Rename(oldDevice, newDevice);
        }
        var renamed = session.Store.Rename(record, newName);
        return Describe(poolRecord, renamed, session.Store);
    }

    public ThinVolume? Resize(string pool, string name, long size, bool growFileSystem, IOperationHost host)
    {
        var poolRecord = RequireOwnPool(pool);
        CheckSize(size);
        var deviceName = Naming.VolumeDeviceName(pool, name);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Resize",
                $"load table: 0 {size / DmTarget.SectorSize} thin <pool major:minor> <id>; suspend and resume /dev/mapper/{deviceName}{(growFileSystem ? Environment.NewLine + "grow its file system" : "")}"))
        {
            return null;
        }
        using var session = Open(pool, host);
        FaultInjection.Begin("resize");
        var record = session.Store.Find(name) ?? throw VolumeNotFound(pool, name);
        pools.ResumeIfLeftSuspended(deviceName, host);
        if (size < record.Size)
        {
            throw new DmPowerShellException(ErrorIds.ShrinkNotSupported, ErrorKind.InvalidArgument,
                $"'{name}' is {ByteSize.Format(record.Size)}; shrinking a thin volume would cut off its file system, so it is refused. Give a size of at least that.", name);
        }
        var active = LiveDevice(poolRecord, record) is not null;
        if (active)
        {
            var target = new ThinTable(session.PoolDevice.ToString(), new ThinId(record.ThinId)).ToTarget((ulong)size / DmTarget.SectorSize);
            host.Verbose($"load table: {target}");
            dm.Load(deviceName, new[] { target });
            FaultInjection.Step("table-loaded");
            host.Verbose($"suspend /dev/mapper/{deviceName}");
            dm.Suspend(deviceName);
            FaultInjection.Step("suspended");
            try
            {
                host.Verbose($"resume /dev/mapper/{deviceName}");
                dm.Resume(deviceName);
            }
            catch
            {
                ResumeAfterFailure(deviceName, host);
                throw;
            }
            FaultInjection.Step("resumed");
        }
        record = record with { Size = size };
        session.Store.Save(record);
        FaultInjection.Step("record-written");
        if (growFileSystem)
        {
            if (!active)
            {
                throw new DmPowerShellException(ErrorIds.PoolInactive, ErrorKind.InvalidState, $"'{name}' is not active: its file system cannot grow. Enable-ThinVolume it first.", name);
            }
            GrowFileSystem(record, $"/dev/mapper/{deviceName}", host);
        }
        return Describe(poolRecord, record, session.Store);
    }

    private static void GrowFileSystem(VolumeRecord record, string path, IOperationHost host)
    {
        var device = BlockDevices.GetDeviceNumber(path);
        var fileSystem = record.FileSystem ?? ProbeFileSystem(path);
        ToolResult result;
        if (fileSystem == "xfs")
        {
            var mount = DeviceUsage.Mounts(device).FirstOrDefault() ?? throw new DmPowerShellException(ErrorIds.NotMounted, ErrorKind.InvalidState,
                $"xfs grows only while mounted: mount {path} first, then run Resize-ThinVolume -ResizeFileSystem again.", path);
            var mountPoint = mount[..mount.LastIndexOf(" (pid", StringComparison.Ordinal)];
            host.Verbose($"xfs_growfs {mountPoint}");
            result = ExternalTool.Run("xfs_growfs", new[] { mountPoint });
        }
        else if (fileSystem is "ext4" or "ext3" or "ext2")
        {
            host.Verbose($"resize2fs {path}");
            result = ExternalTool.Run("resize2fs", new[] { path });
        }
        else
        {
            throw new DmPowerShellException(ErrorIds.UnknownFileSystem, ErrorKind.NotSupported, $"{path} holds no ext4 or xfs file system to grow ({fileSystem ?? "none found"}).", path);
        }
        if (result.ExitCode != 0)
        {
            throw new DmPowerShellException(ErrorIds.FileSystemResizeFailed, ErrorKind.OperationFailed, $"{result.Program} failed (exit {result.ExitCode}): {result.Error.Trim()}", path);
        }
    }

    private static string? ProbeFileSystem(string path)
    {
        var result = ExternalTool.Run("blkid", new[] { "-p", "-s", "TYPE", "-o", "value", path });
        return result.ExitCode == 0 ? result.Output.Trim() : null;
    }

    /// <summary>
    /// Deletions deferred because their device was busy: once the kernel has removed the device
    /// (its last opener closed it), the thin id is deleted. Every command that takes the pool's
    /// lock does this first, so no daemon is needed.
    /// </summary>
    private void FinishDeferredDeletions(Session session, IOperationHost host)
    {
        foreach (var id in session.Store.PendingDeletions())
        {
            var record = session.Store.FindById(id);
            if (record is null)
            {
                session.Store.RemovePendingDeletion(id);
                continue;
            }
            if (LiveDevice(session.Record, record) is not null)
            {
                continue; // still open somewhere: next time
            }
            host.Verbose($"finish the deferred deletion of '{record.Name}' (thin id {id})");
            DeleteCommitted(session, record with { Active = false }, host);
            session.Store.RemovePendingDeletion(id);
        }
    }

    /// <summary>Deactivates and deletes a volume. Its snapshots stay intact.</summary>
    /// <param name="deferred">When the device is busy, let the kernel remove it once closed and delete the volume then.</param>
    public bool Remove(string pool, string name, IOperationHost host, bool deferred = false)
    {
        var poolRecord = RequireOwnPool(pool);
        if (!host.ShouldProcess($"thin volume '{name}' in pool '{pool}'", "Remove",
                $"remove device /dev/mapper/{Naming.VolumeDeviceName(pool, name)} if active{Environment.NewLine}message {poolRecord.DevicePath} 0 set_transaction_id <n> <n+1>{Environment.NewLine}message {poolRecord.DevicePath} 0 delete <id> (its data is lost; its snapshots stay){Environment.NewLine}delete its record"))
        {
            return false;
        }
        using var session = Open(pool, host);
        FaultInjection.Begin("remove");
        var record = session.Store.Find(name) ?? throw VolumeNotFound(pool, name);
        if (session.Store.PendingDeletions().Contains(record.ThinId))
        {
            throw new DmPowerShellException(ErrorIds.DeviceInUse, ErrorKind.ResourceBusy,
                $"'{name}' is already being removed: its device is still open, and it is deleted once that closes.", name);
        }
        // The journal first: a removal interrupted anywhere after it is completed or rolled back
        // (the volume then recorded active only if its device still is), so no record is written before.
        var transaction = WriteDeleteJournal(session, record with { Active = false });
        try
        {
            RemoveDeviceOf(session.Record, record, host);
        }
        catch (DmPowerShellException e) when (e.ErrorId == ErrorIds.DeviceInUse)
        {
            session.Store.ClearJournal();   // nothing has changed
            if (!deferred) throw;
            var device = Naming.VolumeDeviceName(pool, record.Name);
            host.Warning($"{e.Message} Removal deferred: the kernel removes /dev/mapper/{device} when it is closed, and the next command on pool '{pool}' then deletes the volume.");
            dm.Remove(device, deferred: true);
            session.Store.Save(record with { Active = false });
            session.Store.AddPendingDeletion(record.ThinId);
            return true;
        }
        catch (Exception) when (LiveDevice(session.Record, record) is not null)
        {
            session.Store.ClearJournal();   // the device is still there: nothing has changed
            throw;
        }
        FaultInjection.Step("device-removed");
        DeleteJournaled(session, record with { Active = false }, transaction, host);
        return true;
    }

    private ulong WriteDeleteJournal(Session session, VolumeRecord record)
    {
        var transaction = Status(session).TransactionId;
        session.Store.WriteJournal(new PoolJournal
        {
            Operation = PoolJournal.Delete,
            FromTransaction = transaction,
            Records = new[] { record },
            Started = DateTimeOffset.UtcNow,
            ProcessId = Environment.ProcessId,
        });
        FaultInjection.Step("journal-written");
        return transaction;
    }

    /// <summary>The transaction that deletes an inactive volume's thin id.</summary>
    private void DeleteCommitted(Session session, VolumeRecord record, IOperationHost host) =>
        DeleteJournaled(session, record, WriteDeleteJournal(session, record), host);

    /// <summary>The rest of it, once its journal is written: transaction id, delete, commit, record.</summary>
    private void DeleteJournaled(Session session, VolumeRecord record, ulong transaction, IOperationHost host)
    {
        SetTransaction(session, transaction, host);
        FaultInjection.Step("transaction-set");
        DeleteThinId(session, record.ThinId, host);
        FaultInjection.Step("thin-deleted");
        Commit(session, host);
        session.Store.Delete(record);
        FaultInjection.Step("records-written");
        session.Store.ClearJournal();
    }
}
