using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Volumes;

public sealed partial class VolumeService
{
    /// <summary>Volumes of one pool or all pools, filtered by a name predicate and an origin name.</summary>
    /// <param name="usage">Read what each volume maps, alone and shared, from the pool's metadata (thin_ls), active or not.</param>
    public IReadOnlyList<ThinVolume> List(string? pool, Func<string, bool>? name = null, string? origin = null, bool usage = false)
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
            var live = LiveStateInBulk(poolRecord, chosen, usage);
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
            ExclusiveBytes = state.ExclusiveBytes,
            SharedBytes = state.SharedBytes,
            UsedPercent = mapped is null ? null : Math.Round(100.0 * mapped.Value / record.Size, 2),
            FileSystem = record.FileSystem,
            PendingDeletion = pendingDeletion,
            Created = record.Created,
            Uuid = uuid,
            StateRoot = pools.Registry.Root,
        };
    }
}
