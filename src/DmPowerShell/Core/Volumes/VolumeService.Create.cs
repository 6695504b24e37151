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
        var activateIt = activate || fileSystem is not null;
        var record = new VolumeRecord { Name = name, Size = size, Created = DateTimeOffset.UtcNow, FileSystem = fileSystem, Formatting = fileSystem is not null };
        string Plan() => new PoolTransaction(session, "create") { Activate = activateIt, Created = { record } }.Plan().Render()
            + (fileSystem is null ? "" : $"{Environment.NewLine}mkfs.{fileSystem} /dev/mapper/{Naming.VolumeDeviceName(pool, name)}");
        if (!host.ShouldProcess($"thin volume '{name}' ({ByteSize.Format(size)}) in pool '{pool}'", "Create", Plan))
        {
            return null;
        }

        session.Prepare(host);
        FaultInjection.Begin("create");
        CheckNameFree(session, name);
        var status = session.Status();
        CheckPoolCanGrow(session, status);
        var transaction = new PoolTransaction(session, "create") { Activate = activateIt, Created = { record } };
        var created = transaction.Run(host, status);
        // A new thin volume maps nothing until something writes to it (mkfs does): no need to ask the kernel.
        return Finish(session, created, fileSystem, host, fileSystem is null ? transaction.Devices : null, mappedBytes: 0)[0];
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
        if (!host.ShouldProcess($"snapshot{(names.Count > 1 ? "s" : "")} {string.Join(", ", names.Select(n => $"'{n}'"))} of '{origin}' in pool '{pool}'", "Create",
                () => SnapshotTransaction(session, originRecord, session.LiveDevice(originRecord) is not null, names, activate, readOnly).Plan().Render()))
        {
            return Array.Empty<ThinVolume>();
        }

        session.Prepare(host);
        FaultInjection.Begin("snapshot");
        originRecord = session.Volumes.Find(origin) ?? throw VolumeNotFound(pool, origin);
        foreach (var name in names) CheckNameFree(session, name);
        var status = session.Status();
        CheckPoolCanGrow(session, status);
        // The origin's device and mapped bytes in one ioctl: a snapshot maps what its origin mapped
        // as it was taken, so the new devices need no status read of their own.
        var originLive = session.LiveVolume(originRecord);
        var transaction = SnapshotTransaction(session, originRecord, originLive is not null, names, activate, readOnly);
        var created = transaction.Run(host, status);
        return Finish(session, created, null, host, originLive?.MappedBytes is not null ? transaction.Devices : null, originLive?.MappedBytes ?? 0);
    }

    private static PoolTransaction SnapshotTransaction(PoolSession session, VolumeRecord origin, bool originActive, IReadOnlyList<string> names, bool activate, bool readOnly)
    {
        var lineage = new[] { new Ancestor(origin.ThinId, origin.Name) }.Concat(origin.Lineage).ToList();
        var transaction = new PoolTransaction(session, "snapshot")
        {
            SnapshotOf = origin.ThinId,
            Suspend = originActive ? session.VolumeDeviceName(origin) : null,
            Activate = activate,
            ReadOnly = readOnly,
        };
        transaction.Created.AddRange(names.Select(name => new VolumeRecord
        {
            Name = name,
            Size = origin.Size,
            OriginId = origin.ThinId,
            Lineage = lineage,
            ReadOnly = readOnly,
            FileSystem = origin.FileSystem,
            Created = DateTimeOffset.UtcNow,
        }));
        return transaction;
    }

    /// <summary>mkfs on the volume's device, then the record no longer marked as formatting (durably).</summary>
    private static VolumeRecord MakeFileSystem(PoolSession session, VolumeRecord record, string fileSystem, IOperationHost host)
    {
        FileSystem.Format($"/dev/mapper/{session.VolumeDeviceName(record)}", record.Name, fileSystem, host);
        if (!record.Formatting) return record;
        var formatted = record with { Formatting = false };
        session.Volumes.Save(formatted);
        return formatted;
    }

    /// <summary>Formatting (after the records are written: mkfs is long) and the objects returned.</summary>
    /// <param name="devices">The new devices' info when their state is known without asking the kernel (each maps <paramref name="mappedBytes"/>).</param>
    private IReadOnlyList<ThinVolume> Finish(PoolSession session, IReadOnlyList<VolumeRecord> records, string? fileSystem, IOperationHost host,
        IReadOnlyList<DeviceInfo?>? devices = null, long mappedBytes = 0)
    {
        var result = new List<ThinVolume>();
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            if (fileSystem is not null)
            {
                record = MakeFileSystem(session, record, fileSystem, host);
            }
            var known = devices?[i] is { } info ? (info, (long?)mappedBytes) : ((DeviceInfo, long?)?)null;
            result.Add(Describe(session.Pool, record, session.Volumes, known));
        }
        return result;
    }
}
