using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Transactions;

namespace DmPowerShell.Volumes;

public sealed partial class VolumeService
{
    /// <summary>
    /// Takes a volume back to a snapshot's content, in one transaction: a new snapshot of the
    /// snapshot becomes the volume (its name, its device path, its activation), so the snapshot
    /// itself stays and can be restored again; the volume's old content is kept as a snapshot
    /// named <paramref name="keepAs"/> (by default '&lt;name&gt;.before-restore'), or deleted with
    /// <paramref name="discard"/>. Refused while the volume's device is open.
    /// </summary>
    public ThinVolume? Restore(string pool, string name, string snapshot, bool discard, string? keepAs, IOperationHost host)
    {
        using var session = Open(pool);
        if (keepAs is not null) CheckName(session.Pool, keepAs);
        var (volume, source, kept) = RestoreParts(session, name, snapshot, discard, keepAs);
        var what = $"thin volume '{name}' in pool '{pool}' from snapshot '{snapshot}'" + (kept is null ? " (its current content is deleted)" : $" (its current content kept as '{kept.Name}')");
        if (!host.ShouldProcess(what, "Restore", () => RestoreTransaction(session, volume, source, kept).Plan().Render()))
        {
            return null;
        }

        session.Prepare(host);
        FaultInjection.Begin("restore");
        (volume, source, kept) = RestoreParts(session, name, snapshot, discard, keepAs);
        if (session.Volumes.IsPendingDeletion(volume.ThinId))
        {
            throw new DmPowerShellException(ErrorIds.DeviceInUse, ErrorKind.ResourceBusy,
                $"'{name}' is being removed: its device is still open, and it is deleted once that closes.", name);
        }
        var status = session.Status();
        CheckPoolCanGrow(session, status);
        var created = RestoreTransaction(session, volume, source, kept).Run(host, status);
        return Describe(session.Pool, created[0], session.Volumes);
    }

    /// <summary>The volume, the snapshot it goes back to, and the record its old content keeps (null when discarded).</summary>
    private (VolumeRecord Volume, VolumeRecord Source, VolumeRecord? Kept) RestoreParts(PoolSession session, string name, string snapshot, bool discard, string? keepAs)
    {
        var pool = session.Pool.Name;
        var volume = session.Volumes.Find(name) ?? throw VolumeNotFound(pool, name);
        var source = session.Volumes.Find(snapshot) ?? throw VolumeNotFound(pool, snapshot);
        if (source.ThinId == volume.ThinId)
        {
            throw new DmPowerShellException(ErrorIds.SnapshotNotRelated, ErrorKind.InvalidArgument, $"'{name}' cannot be restored from itself; give one of its snapshots.", snapshot);
        }
        // Same family: one holds the other in its lineage, or they share an ancestor. A restored
        // volume is a new snapshot of the snapshot, so it can go back to the same one again.
        var family = volume.Lineage.Select(a => a.ThinId).Append(volume.ThinId).ToHashSet();
        if (!source.Lineage.Select(a => a.ThinId).Append(source.ThinId).Any(family.Contains))
        {
            throw new DmPowerShellException(ErrorIds.SnapshotNotRelated, ErrorKind.InvalidArgument,
                $"'{snapshot}' is not a snapshot of '{name}' (nor of any of its ancestors): restoring would put unrelated data under '{name}'. Get-ThinVolume -Pool '{pool}' shows each volume's origin.", snapshot);
        }
        if (discard)
        {
            return (volume, source, null);
        }
        var keptName = keepAs ?? FreeName(session, $"{name}.before-restore");
        CheckName(session.Pool, keptName);
        if (keepAs is not null) CheckNameFree(session, keptName);
        return (volume, source, volume with { Name = keptName, Active = false });
    }

    /// <summary>The first of name, name-2, name-3... that no volume of the pool has.</summary>
    private static string FreeName(PoolSession session, string name)
    {
        var candidate = name;
        for (var n = 2; session.Volumes.NameTaken(candidate); n++) candidate = $"{name}-{n}";
        return candidate;
    }

    private static PoolTransaction RestoreTransaction(PoolSession session, VolumeRecord volume, VolumeRecord source, VolumeRecord? kept)
    {
        var active = session.LiveDevice(volume) is not null;
        var transaction = new PoolTransaction(session, "restore")
        {
            SnapshotOf = source.ThinId,
            Suspend = session.LiveDevice(source) is not null ? session.VolumeDeviceName(source) : null,
            Activate = active,
        };
        transaction.Created.Add(new VolumeRecord
        {
            Name = volume.Name,
            Size = source.Size,
            OriginId = source.ThinId,
            Lineage = new[] { new Ancestor(source.ThinId, source.Name) }.Concat(source.Lineage).ToList(),
            ReadOnly = volume.ReadOnly,
            FileSystem = source.FileSystem,
            Created = DateTimeOffset.UtcNow,
        });
        if (kept is null)
        {
            transaction.Deleted.Add(volume with { Active = false });
        }
        else
        {
            transaction.Replaced.Add(volume);
            transaction.Saved.Add(kept);
        }
        return transaction;
    }
}
