using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;

namespace DmPowerShell.Volumes;

/// <summary>What volumes use and how they differ, read from the pool's own metadata (thin_ls, thin_delta) in one pass for a whole pool.</summary>
public sealed partial class VolumeService
{
    /// <summary>
    /// The smallest number of a pool's active volumes listed at once for which one read of its
    /// metadata (a metadata snapshot and thin_dump) replaces a status ioctl per volume. Each such
    /// ioctl walks the device's mapping tree in the kernel, whose metadata cache a large pool
    /// outgrows; thin_dump reads only the devices' details. Settable for tests.
    /// </summary>
    public static int BulkLiveStateThreshold { get; set; } = 256;

    /// <summary>What the kernel says of a volume: active or not, its device, and what it maps (null: unknown).</summary>
    private readonly record struct LiveVolume(bool Active, DeviceNumber Device, bool ReadOnly, long? MappedBytes, long? ExclusiveBytes = null, long? SharedBytes = null)
    {
        public static readonly LiveVolume Inactive = new(false, default, false, null);

        public static LiveVolume Of((DeviceInfo Info, long? MappedBytes)? device) =>
            device is { } d ? new(true, d.Info.Device, d.Info.ReadOnly, d.MappedBytes) : Inactive;
    }

    /// <summary>
    /// The live state of many volumes of one pool in a constant number of calls: one device list
    /// (its uuids say which volumes are active, and their device numbers) and the pool's
    /// metadata read once through a metadata snapshot (what every volume maps, active or not).
    /// Unless <paramref name="usage"/> asks for it, null when asking each device is the better
    /// way: few active volumes, a kernel whose list carries no uuids, a change in flight (the
    /// pool's lock is taken only if free), or a pool that cannot take a metadata snapshot
    /// (read-only, failed). With <paramref name="usage"/> the pool's lock is waited for, an
    /// inactive pool's metadata is read at rest, and a failure is the caller's.
    /// </summary>
    private Dictionary<ThinId, LiveVolume>? LiveStateInBulk(PoolRecord pool, IReadOnlyList<VolumeRecord> records, bool usage)
    {
        if (pools.BackingOf(pool).Manager != PoolManager.DmPowerShell) return null;
        if (!usage && records.Count < BulkLiveStateThreshold) return null;
        var poolLive = usage ? pools.IsActive(pool) : true;
        var active = new Dictionary<uint, DeviceListEntry>();
        if (poolLive)
        {
            var list = dm.List();
            if (!usage && list.Any(e => e.Uuid is null)) return null;
            var wanted = records.ToDictionary(r => r.ThinId.Value);
            foreach (var entry in list)
            {
                // Without a listed uuid, only a device named as this pool's volumes is asked for one.
                var id = entry.Uuid is null && Naming.VolumeNameFromDevice(pool.Name, entry.Name) is null ? null : Naming.ThinIdFromUuid(pool.Id, dm.UuidOf(entry));
                if (id is { } thin && wanted.TryGetValue(thin, out var record) && entry.Name == Naming.VolumeDeviceName(pool.Name, record.Name))
                {
                    active[thin] = entry;
                }
            }
            if (!usage && active.Count < BulkLiveStateThreshold) return null;
        }
        IReadOnlyList<ThinDeviceUsage> read;
        using (var poolLock = usage ? pools.Registry.LockPool(pool.Name) : pools.Registry.TryLockPool(pool.Name))
        {
            if (poolLock is null) return null;
            try
            {
                FaultInjection.Begin("usage");
                read = PoolMetadataSnapshot.ReadUsage(dm, pool, poolLive, exclusive: usage);
            }
            catch (Exception e) when (!usage && e is DeviceMapperException or DmPowerShellException)
            {
                return null;
            }
        }
        var byId = read.ToDictionary(u => u.Id);
        return records.ToDictionary(r => r.ThinId, r =>
        {
            var found = byId.GetValueOrDefault(r.ThinId);
            var state = active.TryGetValue(r.ThinId, out var entry) ? new LiveVolume(true, entry.Device, r.ReadOnly, null) : LiveVolume.Inactive;
            return state with { MappedBytes = found?.MappedBytes, ExclusiveBytes = found?.ExclusiveBytes, SharedBytes = found?.SharedBytes };
        });
    }

    /// <summary>
    /// Where two volumes of one pool differ, from the pool's metadata (thin_delta through a
    /// metadata snapshot, or at rest when the pool is inactive), at the pool's block granularity.
    /// </summary>
    public VolumeComparison Compare(string pool, string reference, string difference)
    {
        var poolRecord = pools.Require(pool);
        pools.RequireOwnTable(poolRecord, "LVM keeps its thin ids; compare its volumes with thin_delta on a metadata snapshot of the pool's _tmeta.");
        var store = new VolumeStore(pools.Registry, pool);
        var left = store.Find(reference) ?? throw VolumeNotFound(pool, reference);
        var right = store.Find(difference) ?? throw VolumeNotFound(pool, difference);
        IReadOnlyList<ThinDeltaRange> ranges;
        using (pools.Registry.LockPool(pool))
        {
            FaultInjection.Begin("compare");
            ranges = PoolMetadataSnapshot.ReadDelta(dm, poolRecord, pools.IsActive(poolRecord), left.ThinId, right.ThinId);
        }
        long Bytes(DifferenceKind kind) => ranges.Where(r => r.Kind == kind).Sum(r => r.Length);
        return new VolumeComparison
        {
            Pool = pool,
            Reference = left.Name,
            Difference = right.Name,
            Ranges = ranges.Select(r => new VolumeDifference { Pool = pool, Reference = left.Name, Difference = right.Name, Kind = r.Kind, Offset = r.Offset, Length = r.Length }).ToList(),
            ChangedBytes = ranges.Sum(r => r.Length),
            LeftOnlyBytes = Bytes(DifferenceKind.LeftOnly),
            RightOnlyBytes = Bytes(DifferenceKind.RightOnly),
            DifferentBytes = Bytes(DifferenceKind.Different),
        };
    }
}
