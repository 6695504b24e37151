using System.Text;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Transactions;
using DmPowerShell.Units;

namespace DmPowerShell.Volumes;

public sealed partial class VolumeService
{
    /// <summary>A new thin volume (the guide's "base device"), optionally active and formatted.</summary>
    public ThinVolume? Create(string pool, string name, long size, string? fileSystem, bool activate, IOperationHost host)
    {
        using var session = Open(pool);
        var poolRecord = session.Pool;
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

        session.Prepare(host);
        FaultInjection.Begin("create");
        CheckNameFree(session, name);
        var status = session.Status();
        CheckPoolCanGrow(session, status);
        var transaction = new PoolTransaction(session, "create") { Activate = activate || fileSystem is not null };
        transaction.Created.Add(new VolumeRecord { Name = name, Size = size, Created = DateTimeOffset.UtcNow, FileSystem = fileSystem });
        return Finish(session, transaction.Run(host, status), fileSystem, host)[0];
    }

    /// <summary>Snapshots of one origin, to any depth; the origin, if active, is suspended once for all of them.</summary>
    public IReadOnlyList<ThinVolume> Snapshot(string pool, string origin, IReadOnlyList<string> names, bool activate, bool readOnly, IOperationHost host)
    {
        using var session = Open(pool);
        var poolRecord = session.Pool;
        foreach (var name in names) CheckName(poolRecord, name);
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists, $"The name '{duplicate.Key}' is given twice; give each snapshot its own name.", duplicate.Key);
        }
        var originRecord = session.Volumes.Find(origin) ?? throw VolumeNotFound(pool, origin);
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

        session.Prepare(host);
        FaultInjection.Begin("snapshot");
        originRecord = session.Volumes.Find(origin) ?? throw VolumeNotFound(pool, origin);
        foreach (var name in names) CheckNameFree(session, name);
        var status = session.Status();
        CheckPoolCanGrow(session, status);
        var lineage = new[] { new Ancestor(originRecord.ThinId, originRecord.Name) }.Concat(originRecord.Lineage).ToList();
        var transaction = new PoolTransaction(session, "snapshot")
        {
            SnapshotOf = originRecord.ThinId,
            Suspend = session.LiveDevice(originRecord) is not null ? originDevice : null,
            Activate = activate,
            ReadOnly = readOnly,
        };
        transaction.Created.AddRange(names.Select(name => new VolumeRecord
        {
            Name = name,
            Size = originRecord.Size,
            OriginId = originRecord.ThinId,
            Lineage = lineage,
            ReadOnly = readOnly,
            FileSystem = originRecord.FileSystem,
            Created = DateTimeOffset.UtcNow,
        }));
        return Finish(session, transaction.Run(host, status), null, host);
    }

    /// <summary>Formatting (after the records are written: mkfs is long) and the objects returned.</summary>
    private IReadOnlyList<ThinVolume> Finish(PoolSession session, IReadOnlyList<VolumeRecord> records, string? fileSystem, IOperationHost host)
    {
        var result = new List<ThinVolume>();
        foreach (var record in records)
        {
            if (fileSystem is not null)
            {
                FileSystem.Format($"/dev/mapper/{session.VolumeDeviceName(record)}", record.Name, fileSystem, host);
            }
            result.Add(Describe(session.Pool, record, session.Volumes));
        }
        return result;
    }
}
