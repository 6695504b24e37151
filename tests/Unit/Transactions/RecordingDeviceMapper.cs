using DmPowerShell.Interop;
using DmPowerShell.Kernel;

namespace DmPowerShell.Tests.Unit.Transactions;

/// <summary>
/// A recording fake behind the device-mapper seam, for host tests of the order of a change's
/// steps and of recovery's decisions. It models only what those decisions read (devices by
/// name, a pool's thin ids and transaction id); it never backs a claim about the kernel.
/// </summary>
internal sealed class RecordingDeviceMapper : IDeviceMapper
{
    private readonly Dictionary<string, DeviceInfo> devices = new();
    private readonly Dictionary<string, IReadOnlyList<DmTarget>> tables = new(), loaded = new();
    private uint nextMinor;

    public RecordingDeviceMapper(string poolDevice, string poolUuid)
    {
        PoolDevice = poolDevice;
        Add(poolDevice, poolUuid);
    }

    public string PoolDevice { get; }
    public List<string> Calls { get; } = new();
    public HashSet<uint> ThinIds { get; } = new();
    public ulong TransactionId { get; set; }

    /// <summary>Called before each recorded call: tests look at the registry there.</summary>
    public Action<string>? Before { get; set; }

    /// <summary>Devices whose removal fails with EBUSY.</summary>
    public HashSet<string> Busy { get; } = new();

    public void Add(string name, string? uuid, bool suspended = false) =>
        devices[name] = new DeviceInfo(name, uuid, suspended, true, false, 0, 0, 253, nextMinor++, false, 1, false);

    public bool IsSuspended(string name) => devices[name].Suspended;

    public bool Exists(string name) => devices.ContainsKey(name);

    private void Record(string call)
    {
        Before?.Invoke(call);
        Calls.Add(call);
    }

    public DeviceMapperVersion GetVersion() => new("fake", "fake");

    public bool UdevSyncSupported => false;

    /// <summary>Devices whose creation the "kernel" refuses (a thin id gone from the metadata: ENODATA).</summary>
    public HashSet<string> Refuse { get; } = new();

    public DeviceInfo? Create(string name, string? uuid, IReadOnlyList<DmTarget> table, bool readOnly = false)
    {
        Record($"create {name}");
        if (devices.ContainsKey(name)) throw new DeviceExistsException(DmOperation.Create, name, Errno.EEXIST);
        if (Refuse.Contains(name)) throw new DeviceMapperException(DmOperation.Create, name, Errno.ENODATA);
        Add(name, uuid);
        tables[name] = table;
        return devices[name] with { ReadOnly = readOnly };
    }

    /// <summary>A device's live table, as a test sets it up.</summary>
    public void SetTable(string name, params DmTarget[] table) => tables[name] = table;

    public void Load(string name, IReadOnlyList<DmTarget> table, bool readOnly = false)
    {
        Record($"load {name}");
        loaded[name] = table;
    }

    public void Suspend(string name, bool noFlush = false)
    {
        Record($"suspend {name}");
        devices[name] = devices[name] with { Suspended = true };
    }

    public void Resume(string name)
    {
        Record($"resume {name}");
        devices[name] = devices[name] with { Suspended = false };
        if (loaded.Remove(name, out var table)) tables[name] = table;
    }

    public void Remove(string name, bool deferred = false)
    {
        Record($"remove {name}{(deferred ? " deferred" : "")}");
        if (Busy.Contains(name) && !deferred) throw new DeviceBusyException(DmOperation.Remove, name, Errno.EBUSY);
        if (!deferred)
        {
            devices.Remove(name);
            tables.Remove(name);
        }
    }

    public void Rename(string name, string newName)
    {
        Record($"rename {name} {newName}");
        devices[newName] = devices[name] with { Name = newName };
        devices.Remove(name);
    }

    public string? SendMessage(string name, string message, ulong sector = 0)
    {
        Record($"message {message}");
        var words = message.Split(' ');
        var id = words.Length > 1 && uint.TryParse(words[1], out var parsed) ? parsed : 0;
        switch (words[0])
        {
            case "create_thin" or "create_snap":
                if (!ThinIds.Add(id)) throw new DeviceExistsException(DmOperation.Message, name, Errno.EEXIST, message);
                break;
            case "delete":
                if (!ThinIds.Remove(id)) throw new DeviceMapperException(DmOperation.Message, name, Errno.ENODATA, message);
                break;
            case "set_transaction_id":
                if (ulong.Parse(words[1]) != TransactionId) throw new DeviceMapperException(DmOperation.Message, name, Errno.EINVAL, message);
                TransactionId = ulong.Parse(words[2]);
                break;
        }
        return null;
    }

    public DeviceInfo? GetInfo(string name) => devices.GetValueOrDefault(name);

    public (DeviceInfo Info, IReadOnlyList<DmTarget> Status)? GetInfoAndStatus(string name) =>
        devices.TryGetValue(name, out var info) ? (info, Array.Empty<DmTarget>()) : null;

    public IReadOnlyList<DmTarget> GetTable(string name) => tables.GetValueOrDefault(name) ?? Array.Empty<DmTarget>();

    public IReadOnlyList<DmTarget> GetStatus(string name, bool noFlush = false)
    {
        if (!noFlush) Record("commit");
        return new[] { new DmTarget(0, 2048, "thin-pool", $"{TransactionId} 10/1000 10/1000 - rw discard_passdown queue_if_no_space - 100") };
    }

    public IReadOnlyList<DeviceListEntry> List() => devices.Values.Select(d => new DeviceListEntry(d.Name, d.Device, d.Uuid ?? "")).ToList();

    public IReadOnlyList<DeviceListEntry> List(DeviceListFilter filter) => List().Where(e => filter.Keeps(e.Device) && filter.Keeps(e.Uuid)).ToList();

    public IReadOnlyList<DeviceNumber> GetDependencies(string name) => Array.Empty<DeviceNumber>();

    /// <summary>The devices whose live table names this one, as sysfs would list them.</summary>
    public IReadOnlyList<DeviceNumber>? GetHolders(DeviceNumber device) =>
        devices.Values.Where(d => GetTable(d.Name).Any(t => t.Parameters.Split(' ').Contains(device.ToString()))).Select(d => d.Device).ToList();
}
