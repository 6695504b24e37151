using System.Globalization;
using System.Text.RegularExpressions;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Storage;

namespace DmPowerShell.Health;

/// <summary>
/// Test-ThinPool and Repair-ThinPool: gathers the registry, the live devices and the pool's own
/// metadata (read through a metadata snapshot, always released), compares them, and fixes what
/// disagrees. Repairs adopt what they find; data is deleted only when asked, and only thin ids
/// this module handed out.
/// </summary>
public sealed partial class PoolHealthService
{
    private readonly PoolService pools;
    private readonly IDeviceMapper dm;

    public PoolHealthService(PoolService pools, IDeviceMapper? client = null)
    {
        this.pools = pools;
        dm = client ?? pools.DeviceMapper;
    }

    public IReadOnlyList<PoolProblem> Test(string name)
    {
        var record = pools.Require(name);
        pools.RequireOwnTable(record, "LVM checks it: lvs, vgck, and thin_check on its _tmeta.");
        return PoolInspection.Compare(Gather(record));
    }

    /// <summary>Reads the three views. The pool's lock keeps the module's own commands out meanwhile.</summary>
    public PoolViews Gather(PoolRecord record)
    {
        using var poolLock = pools.Registry.LockPool(record.Name);
        var store = new VolumeStore(pools.Registry, record.Name);
        var active = pools.IsActive(record);
        var views = new PoolViews
        {
            Pool = record,
            Records = store.List(),
            PendingDeletions = store.PendingDeletions(),
            Journal = store.ReadJournal(),
            Summary = store.TrustedSummary(),
            Active = active,
            InterruptedRepair = ReadRepairMarker(record.Name),
        };
        if (!active)
        {
            var (metadata, failure, needsCheck) = ReadAtRest(record);
            return views with { Metadata = metadata, MetadataCheckFailure = failure, NeedsCheckAtRest = needsCheck };
        }
        var status = ThinPoolStatus.Parse(dm.GetStatus(record.DeviceName, noFlush: true).Single().Parameters);
        var live = LiveDevices(record);
        var canSnapshot = status.Health == TargetHealth.Ok && status.Mode != PoolMode.ReadOnly;
        return views with { Status = status, LiveDevices = live, Metadata = canSnapshot ? ReadLive(record) : null };
    }

    private IReadOnlyList<LiveThinDevice> LiveDevices(PoolRecord record)
    {
        var info = dm.GetInfo(record.DeviceName)!;
        var result = new List<LiveThinDevice>();
        foreach (var (name, length) in pools.ThinDevicesOf(info.Device))
        {
            var uuid = dm.GetInfo(name)?.Uuid;
            uint? id = null;
            try
            {
                id = ThinTable.Parse(dm.GetTable(name).Single().Parameters).DeviceId.Value;
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or DeviceNotFoundException)
            {
                // Not a plain thin table, or gone meanwhile: listed without an id.
            }
            result.Add(new LiveThinDevice(name, uuid, id, Naming.VolumeNameFromDevice(record.Name, name), length));
        }
        return result;
    }

    /// <summary>The live pool's metadata: reserve a metadata snapshot, thin_dump it, release it (always).</summary>
    private PoolMetadata ReadLive(PoolRecord record, uint? deviceWithMappings = null) =>
        WithMetadataSnapshot(record, null, device => Dump(device, metadataSnapshot: true, deviceWithMappings));

    /// <summary>Runs <paramref name="read"/> on the live pool's metadata device while a metadata snapshot is held; releases it always.</summary>
    internal T WithMetadataSnapshot<T>(PoolRecord record, IOperationHost? host, Func<string, T> read) => PoolMetadataSnapshot.Read(dm, record, host, read);

    /// <summary>An inactive pool's metadata, checked by thin_check and read by thin_dump through a read-only loop.</summary>
    private static (PoolMetadata? Metadata, string? Failure, bool NeedsCheck) ReadAtRest(PoolRecord record)
    {
        using var device = PoolMetadataSnapshot.OpenAtRest(record.MetadataPath);
        var check = ExternalTool.Run("thin_check", new[] { device.Path });
        if (check.ExitCode != 0)
        {
            return (null, (check.Error + check.Output).Trim(), false);
        }
        return (Dump(device.Path, metadataSnapshot: false, null), null, NeedsCheckFlag(device.Path));
    }

    /// <summary>
    /// The kernel's needs_check verdict persists in the superblock's flags (bit 0 of the word after
    /// the checksum); thin_check accepts it, so an inactive pool's flag is read directly.
    /// </summary>
    private static bool NeedsCheckFlag(string device)
    {
        using var stream = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Span<byte> head = stackalloc byte[8];
        stream.ReadExactly(head);
        return (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(head[4..]) & 1) != 0;
    }

    private static PoolMetadata Dump(string device, bool metadataSnapshot, uint? deviceWithMappings)
    {
        var options = deviceWithMappings is { } id ? new[] { "--dev-id", id.ToString(CultureInfo.InvariantCulture) } : new[] { "--skip-mappings" };
        var xml = PoolMetadataSnapshot.ThinDump(device, metadataSnapshot, options);
        var metadata = PoolMetadata.ParseXml(xml);
        return deviceWithMappings is null ? metadata : metadata with { HighestMappedBlock = HighestMappedBlock(xml) };
    }

    /// <summary>The highest virtual block a device's mappings reach, from thin_dump's single and range mappings.</summary>
    internal static ulong? HighestMappedBlock(string xml)
    {
        ulong? highest = null;
        foreach (Match m in MappingPattern().Matches(xml))
        {
            var begin = ulong.Parse(m.Groups["begin"].Value, CultureInfo.InvariantCulture);
            var end = m.Groups["length"].Success ? begin + ulong.Parse(m.Groups["length"].Value, CultureInfo.InvariantCulture) - 1 : begin;
            highest = highest is null || end > highest ? end : highest;
        }
        return highest;
    }

    [GeneratedRegex("<(?:single_mapping origin_block=\"(?<begin>\\d+)\"|range_mapping origin_begin=\"(?<begin>\\d+)\"[^>]*?length=\"(?<length>\\d+)\")")]
    private static partial Regex MappingPattern();
}
