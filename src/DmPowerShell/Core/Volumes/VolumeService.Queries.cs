using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Volumes;

public sealed partial class VolumeService
{
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
            var pending = store.PendingDeletions().ToHashSet();
            var chosen = records.Where(r => (name is null || name(r.Name)) && (originId is null || r.OriginId == originId)).ToList();
            var live = LiveStateInBulk(poolRecord, chosen);
            foreach (var record in chosen)
            {
                result.Add(Describe(poolRecord, record, byId, pending.Contains(record.ThinId), live?.GetValueOrDefault(record.ThinId, LiveVolume.Inactive)));
            }
        }
        return result;
    }

    /// <summary>
    /// Volumes of one pool by their exact names, reading only their own records (whatever the
    /// pool's size); null when a name has no exact match, and the caller lists instead (matching
    /// as PowerShell does, ignoring case).
    /// </summary>
    public IReadOnlyList<ThinVolume>? GetExact(string pool, IEnumerable<string> names)
    {
        var poolRecord = pools.Require(pool);
        var store = new VolumeStore(pools.Registry, pool);
        var records = new Dictionary<ThinId, VolumeRecord>();
        foreach (var name in names)
        {
            if (store.Find(name) is not { } record) return null;
            records[record.ThinId] = record;
        }
        return records.Values.OrderBy(r => r.ThinId).Select(r => Describe(poolRecord, r, store)).ToList();
    }

    public ThinVolume Get(string pool, string name)
    {
        var store = new VolumeStore(pools.Registry, pool);
        var record = store.Find(name) ?? throw VolumeNotFound(pool, name);
        return Describe(pools.Require(pool), record, store);
    }

    /// <summary>
    /// The smallest number of a pool's active volumes listed at once for which one read of its
    /// metadata (a metadata snapshot and thin_dump) replaces a status ioctl per volume. Each such
    /// ioctl walks the device's mapping tree in the kernel, whose metadata cache a large pool
    /// outgrows; thin_dump reads only the devices' details. Settable for tests.
    /// </summary>
    public static int BulkLiveStateThreshold { get; set; } = 256;

    /// <summary>What the kernel says of a volume: active or not, its device, and what it maps (null: unknown).</summary>
    private readonly record struct LiveVolume(bool Active, DeviceNumber Device, bool ReadOnly, long? MappedBytes)
    {
        public static readonly LiveVolume Inactive = new(false, default, false, null);

        public static LiveVolume Of((DeviceInfo Info, long? MappedBytes)? device) =>
            device is { } d ? new(true, d.Info.Device, d.Info.ReadOnly, d.MappedBytes) : Inactive;
    }

    /// <summary>
    /// The live state of many volumes of one pool in a constant number of calls: one device list
    /// (its uuids say which volumes are active, and their device numbers) and the pool's
    /// metadata read once through a metadata snapshot (what every volume maps, active or not).
    /// Null when asking each device is the better way: few active volumes, a kernel whose list
    /// carries no uuids, a change in flight (the pool's lock is taken only if free), or a pool
    /// that cannot take a metadata snapshot (read-only, failed).
    /// </summary>
    private Dictionary<ThinId, LiveVolume>? LiveStateInBulk(PoolRecord pool, IReadOnlyList<VolumeRecord> records)
    {
        if (records.Count < BulkLiveStateThreshold || pools.BackingOf(pool).Manager != PoolManager.DmPowerShell) return null;
        var list = dm.List();
        if (list.Any(e => e.Uuid is null)) return null;
        var wanted = records.ToDictionary(r => r.ThinId.Value);
        var active = new Dictionary<uint, DeviceListEntry>();
        foreach (var entry in list)
        {
            if (Naming.ThinIdFromUuid(pool.Id, entry.Uuid) is { } id && wanted.TryGetValue(id, out var record)
                && entry.Name == Naming.VolumeDeviceName(pool.Name, record.Name))
            {
                active[id] = entry;
            }
        }
        if (active.Count < BulkLiveStateThreshold) return null;
        using var poolLock = pools.Registry.TryLockPool(pool.Name);
        if (poolLock is null) return null;
        PoolMetadata metadata;
        try
        {
            metadata = PoolMetadataSnapshot.ReadDevices(dm, pool);
        }
        catch (Exception e) when (e is DeviceMapperException or DmPowerShellException)
        {
            return null;
        }
        var blockBytes = (long)metadata.DataBlockSectors * Sectors.Size;
        var mapped = metadata.Devices.ToDictionary(d => d.Id, d => (long)d.MappedBlocks * blockBytes);
        return records.ToDictionary(r => r.ThinId, r =>
        {
            long? bytes = mapped.TryGetValue(r.ThinId, out var m) ? m : null;
            return active.TryGetValue(r.ThinId, out var entry)
                ? new LiveVolume(true, entry.Device, r.ReadOnly, bytes)
                : LiveVolume.Inactive with { MappedBytes = bytes };
        });
    }

    /// <param name="live">The volume's device and mapped bytes when the caller knows them (it just created the device); else the kernel is asked.</param>
    private ThinVolume Describe(PoolRecord pool, VolumeRecord record, VolumeStore store, (DeviceInfo Info, long? MappedBytes)? live = null) =>
        Describe(pool, record, record.Lineage.Select(a => store.FindById(a.ThinId)).OfType<VolumeRecord>().ToDictionary(r => r.ThinId), store.IsPendingDeletion(record.ThinId),
            live is null ? null : LiveVolume.Of(live));

    private ThinVolume Describe(PoolRecord pool, VolumeRecord record, IReadOnlyDictionary<ThinId, VolumeRecord> known, bool pendingDeletion, LiveVolume? live)
    {
        var deviceName = Naming.VolumeDeviceName(pool.Name, record.Name);
        var uuid = Naming.VolumeUuid(pool.Id, record.ThinId);
        // Unless the caller knows: one ioctl per volume, its info and its status together.
        var state = live ?? LiveVolume.Of(dm.GetThinDevice(deviceName, uuid));
        var active = state.Active;
        var mapped = state.MappedBytes;
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
            ReadOnly = active ? state.ReadOnly : record.ReadOnly,
            DeviceName = deviceName,
            DevicePath = $"/dev/mapper/{deviceName}",
            Device = active ? state.Device.ToString() : null,
            MappedBytes = mapped,
            UsedPercent = mapped is null ? null : Math.Round(100.0 * mapped.Value / record.Size, 2),
            FileSystem = record.FileSystem,
            PendingDeletion = pendingDeletion,
            Created = record.Created,
            Uuid = uuid,
            StateRoot = pools.Registry.Root,
        };
    }
}
