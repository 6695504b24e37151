using DmPowerShell.Interop;

namespace DmPowerShell.Kernel;

/// <summary>
/// What the services ask of device-mapper: one method per libdevmapper task. The module runs
/// <see cref="DeviceMapperClient"/>; host unit tests put a recording fake here to check the
/// order of a change's steps and what recovery does. A fake never stands for the kernel.
/// </summary>
public interface IDeviceMapper
{
    DeviceMapperVersion GetVersion();

    /// <summary>Whether libdevmapper synchronises with a running udev (cookies and semaphores).</summary>
    bool UdevSyncSupported { get; }

    /// <summary>Creates a device and, when a table is given, loads and resumes it in one task; returns its info as the last step left it.</summary>
    DeviceInfo? Create(string name, string? uuid, IReadOnlyList<DmTarget> table, bool readOnly = false);

    /// <summary>Loads a table into the device's inactive slot (resume makes it live).</summary>
    void Load(string name, IReadOnlyList<DmTarget> table, bool readOnly = false);

    void Suspend(string name, bool noFlush = false);

    void Resume(string name);

    /// <summary>Removes a device. Deferred: the kernel removes it when its last opener closes.</summary>
    void Remove(string name, bool deferred = false);

    void Rename(string name, string newName);

    /// <summary>Sends a target message (to sector 0 unless told otherwise) and returns the reply, if any.</summary>
    string? SendMessage(string name, string message, ulong sector = 0);

    /// <summary>The device's info, or null when no device has that name.</summary>
    DeviceInfo? GetInfo(string name);

    /// <summary>The device's info and the status of its targets from one ioctl, or null when no device has that name. Never flushes.</summary>
    (DeviceInfo Info, IReadOnlyList<DmTarget> Status)? GetInfoAndStatus(string name);

    /// <summary>The live table.</summary>
    IReadOnlyList<DmTarget> GetTable(string name);

    /// <summary>The status of each target. Without noFlush, reading a pool's status commits its metadata.</summary>
    IReadOnlyList<DmTarget> GetStatus(string name, bool noFlush = false);

    /// <summary>Every device-mapper device on the host.</summary>
    IReadOnlyList<DeviceListEntry> List();

    /// <summary>The devices of one device list that <paramref name="filter"/> keeps.</summary>
    IReadOnlyList<DeviceListEntry> List(DeviceListFilter filter);

    /// <summary>The devices this device's table uses.</summary>
    IReadOnlyList<DeviceNumber> GetDependencies(string name);

    /// <summary>
    /// The device-mapper devices whose tables use <paramref name="device"/> (the reverse of
    /// <see cref="GetDependencies"/>), or null when that cannot be told without reading every table.
    /// </summary>
    IReadOnlyList<DeviceNumber>? GetHolders(DeviceNumber device);
}
