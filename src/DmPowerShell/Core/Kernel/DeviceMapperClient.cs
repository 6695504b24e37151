using System.Runtime.InteropServices;
using DmPowerShell.Host;
using DmPowerShell.Interop;
using static DmPowerShell.Interop.LibDevMapper;

namespace DmPowerShell.Kernel;

/// <summary>
/// The module's one way to talk to device-mapper: each method is one libdevmapper task, run
/// under the process-wide libdm lock. Failures become typed exceptions carrying the errno.
/// </summary>
public sealed class DeviceMapperClient : IDeviceMapper
{
    /// <summary>The process's client; it holds no state besides libdevmapper's own.</summary>
    public static DeviceMapperClient Shared { get; } = new();

    public DeviceMapperVersion GetVersion()
    {
        return Run(TaskType.Version, DmOperation.Version, null, null, task =>
        {
            unsafe
            {
                var buffer = stackalloc byte[128];
                var driver = dm_task_get_driver_version(task, buffer, 128) != 0 ? Marshal.PtrToStringUTF8((IntPtr)buffer) : null;
                var library = dm_get_library_version(buffer, 128) != 0 ? Marshal.PtrToStringUTF8((IntPtr)buffer) : null;
                return new DeviceMapperVersion(library ?? "unknown", driver ?? "unknown");
            }
        });
    }

    /// <summary>Whether libdevmapper synchronises with a running udev (cookies and semaphores).</summary>
    public bool UdevSyncSupported
    {
        get
        {
            lock (Gate)
            {
                EnsureLibrary();
                return dm_udev_get_sync_support() != 0;
            }
        }
    }

    /// <summary>Creates a device and, when a table is given, loads and resumes it in one task; returns its info as the last step left it.</summary>
    /// <remarks>libdevmapper runs the final resume on the caller's task, so its info is the live device's.</remarks>
    public DeviceInfo? Create(string name, string? uuid, IReadOnlyList<DmTarget> table, bool readOnly = false) =>
        Run(TaskType.Create, DmOperation.Create, name, task =>
        {
            if (uuid is not null) Check(dm_task_set_uuid(task, uuid), DmOperation.Create, name, "uuid");
            AddTargets(task, table, DmOperation.Create, name);
            if (readOnly) dm_task_set_ro(task);
        }, task => ReadInfo(task, name), udev: table.Count > 0, detail: Describe(table));

    /// <summary>Loads a table into the device's inactive slot (resume makes it live).</summary>
    public void Load(string name, IReadOnlyList<DmTarget> table, bool readOnly = false)
    {
        Run(TaskType.Reload, DmOperation.Load, name, task =>
        {
            AddTargets(task, table, DmOperation.Load, name);
            if (readOnly) dm_task_set_ro(task);
        }, _ => 0, detail: Describe(table));
    }

    public void Suspend(string name, bool noFlush = false)
    {
        Run(TaskType.Suspend, DmOperation.Suspend, name, task =>
        {
            if (noFlush) dm_task_no_flush(task);
        }, _ => 0);
    }

    public void Resume(string name)
    {
        Run(TaskType.Resume, DmOperation.Resume, name, null, _ => 0, udev: true);
    }

    /// <summary>Removes a device. Deferred: the kernel removes it when its last opener closes.</summary>
    /// <remarks>
    /// Where udev runs, it opens a device by itself after another program closed it (the watch
    /// rule's probe after an unmount or mkfs): a remove at that moment fails with EBUSY although
    /// nobody uses the device. libdevmapper's retry (as LVM and `dmsetup remove --retry` use it)
    /// tries again for a few seconds; without udev nothing opens a device unasked.
    /// </remarks>
    public void Remove(string name, bool deferred = false)
    {
        Run(TaskType.Remove, DmOperation.Remove, name, task =>
        {
            if (deferred) dm_task_deferred_remove(task);
            else if (UdevRunning) dm_task_retry_remove(task);
        }, _ => 0, udev: true);
    }

    /// <summary>Whether a udev daemon runs (its control socket, as libdevmapper itself checks).</summary>
    private static bool UdevRunning => File.Exists("/run/udev/control");

    public void Rename(string name, string newName)
    {
        Run(TaskType.Rename, DmOperation.Rename, name, task =>
            Check(dm_task_set_newname(task, newName), DmOperation.Rename, name, "new name"), _ => 0, udev: true);
    }

    /// <summary>Sends a target message (to sector 0 unless told otherwise) and returns the reply, if any.</summary>
    public string? SendMessage(string name, string message, ulong sector = 0)
    {
        return Run(TaskType.TargetMessage, DmOperation.Message, name, task =>
        {
            Check(dm_task_set_sector(task, sector), DmOperation.Message, name, message);
            Check(dm_task_set_message(task, message), DmOperation.Message, name, message);
        }, task =>
        {
            var response = ReadString(dm_task_get_message_response(task));
            return string.IsNullOrEmpty(response) ? null : response;
        }, detail: message);
    }

    /// <summary>The device's info, or null when no device has that name.</summary>
    public DeviceInfo? GetInfo(string name) => Run(TaskType.Info, DmOperation.Info, name, null, task => ReadInfo(task, name));

    /// <summary>
    /// The device's info and the status of its targets from one ioctl (listings make one per
    /// volume, so it counts), or null when no device has that name. Never flushes.
    /// </summary>
    public (DeviceInfo Info, IReadOnlyList<DmTarget> Status)? GetInfoAndStatus(string name)
    {
        try
        {
            return Run(TaskType.Status, DmOperation.Status, name, task => dm_task_no_flush(task),
                task => ReadInfo(task, name) is { } info ? (info, ReadTargets(task)) : ((DeviceInfo, IReadOnlyList<DmTarget>)?)null);
        }
        catch (DeviceNotFoundException)
        {
            return null;
        }
    }

    private static DeviceInfo? ReadInfo(DmTaskHandle task, string name)
    {
        if (dm_task_get_info(task, out var info) == 0 || info.Exists == 0)
        {
            return null;
        }
        var uuid = ReadString(dm_task_get_uuid(task));
        return new DeviceInfo(ReadString(dm_task_get_name(task)) ?? name, string.IsNullOrEmpty(uuid) ? null : uuid,
            info.Suspended != 0, info.LiveTable != 0, info.InactiveTable != 0, info.OpenCount, info.EventNumber,
            info.Major, info.Minor, info.ReadOnly != 0, info.TargetCount, info.DeferredRemove != 0);
    }

    /// <summary>The live table.</summary>
    public IReadOnlyList<DmTarget> GetTable(string name) =>
        Run(TaskType.Table, DmOperation.Table, name, null, ReadTargets);

    /// <summary>The status of each target. Without noFlush, reading a pool's status commits its metadata.</summary>
    public IReadOnlyList<DmTarget> GetStatus(string name, bool noFlush = false) =>
        Run(TaskType.Status, DmOperation.Status, name, task =>
        {
            if (noFlush) dm_task_no_flush(task);
        }, ReadTargets);

    /// <summary>Every device-mapper device on the host.</summary>
    /// <summary>
    /// Every dm device with its number and, on kernels with dm ioctl 4.45 or later, its uuid: one
    /// DM_LIST_DEVICES of our own asking for uuids (<see cref="DeviceMapperList"/>), through
    /// libdevmapper's list when that cannot run.
    /// </summary>
    public IReadOnlyList<DeviceListEntry> List() => List(null);

    public IReadOnlyList<DeviceListEntry> List(DeviceListFilter? filter)
    {
        lock (Gate)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                return DeviceMapperList.Run(names => DeviceNameList.Read(names, filter));
            }
            catch (NativeCallException)
            {
                // No control node of our own to open, or a kernel that refuses: libdevmapper's way.
            }
            finally
            {
                callTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
                callCount++;
            }
        }
        return Run(TaskType.List, DmOperation.List, null, null, task => DeviceNameList.Read(dm_task_get_names(task), filter));
    }

    /// <summary>From sysfs (the kernel links a device's holders there), not libdevmapper: one directory read.</summary>
    public IReadOnlyList<DeviceNumber>? GetHolders(DeviceNumber device) => BlockHolders.DeviceMapperHoldersOf(device);

    /// <summary>The devices this device's table uses.</summary>
    public IReadOnlyList<DeviceNumber> GetDependencies(string name)
    {
        return Run(TaskType.Deps, DmOperation.Dependencies, name, null, task =>
        {
            var deps = dm_task_get_deps(task);
            var result = new List<DeviceNumber>();
            if (deps == IntPtr.Zero)
            {
                return result;
            }
            // struct dm_deps { uint32_t count; uint32_t filler; uint64_t device[]; }
            var count = Marshal.ReadInt32(deps);
            for (var i = 0; i < count; i++)
            {
                result.Add(DeviceNumber.FromDevT((ulong)Marshal.ReadInt64(deps, 8 + 8 * i)));
            }
            return result;
        });
    }

    private static string Describe(IReadOnlyList<DmTarget> table) =>
        table.Count == 0 ? "" : ": " + string.Join("; ", table.Select(t => t.ToString()));

    private static void AddTargets(DmTaskHandle task, IReadOnlyList<DmTarget> table, DmOperation operation, string name)
    {
        foreach (var target in table)
        {
            Check(dm_task_add_target(task, target.StartSector, target.LengthSectors, target.TargetType, target.Parameters),
                operation, name, target.ToString());
        }
    }

    private static void Check(int ok, DmOperation operation, string? name, string what)
    {
        if (ok == 0)
        {
            throw new DeviceMapperException(operation, name, Errno.EINVAL, what);
        }
    }

    private static IReadOnlyList<DmTarget> ReadTargets(DmTaskHandle task)
    {
        var result = new List<DmTarget>();
        var next = IntPtr.Zero;
        do
        {
            next = dm_get_next_target(task, next, out var start, out var length, out var type, out var parameters);
            var typeName = ReadString(type);
            if (typeName is not null)
            {
                // The strings belong to the task: copy them before it is destroyed.
                result.Add(new DmTarget(start, length, typeName, ReadString(parameters) ?? ""));
            }
        }
        while (next != IntPtr.Zero);
        return result;
    }

    private static long callTicks;
    private static long callCount;

    /// <summary>Time spent inside libdevmapper's task runs (udev waits included) since start, and their number: the benchmark's profile.</summary>
    public static (TimeSpan Time, long Count) KernelCalls
    {
        get
        {
            lock (Gate) return (System.Diagnostics.Stopwatch.GetElapsedTime(0, callTicks), callCount);
        }
    }

    private static T Run<T>(TaskType type, DmOperation operation, string? name, Action<DmTaskHandle>? configure,
        Func<DmTaskHandle, T> read, bool udev = false, string? detail = null)
    {
        lock (Gate)
        {
            EnsureLibrary();
            var pointer = dm_task_create((int)type);
            if (pointer == IntPtr.Zero)
            {
                throw Unavailable();
            }
            using var task = new DmTaskHandle(pointer);
            if (name is not null && dm_task_set_name(task, name) == 0)
            {
                throw new DeviceMapperException(operation, name, Errno.EINVAL, "the name is not valid for device-mapper");
            }
            configure?.Invoke(task);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var cookie = 0u;
            var waitForUdev = udev && dm_task_set_cookie(task, ref cookie, 0) != 0;
            int ok;
            try
            {
                ok = dm_task_run(task);
            }
            finally
            {
                // A cookie must always be waited on, on failure too, or its semaphore leaks.
                if (waitForUdev)
                {
                    dm_udev_wait(cookie);
                }
                callTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
                callCount++;
            }
            if (!controlProtected)
            {
                // The library opened its control descriptor in the first call: keep it from children.
                InheritedDescriptors.ProtectControlDescriptors();
                controlProtected = true;
            }
            if (ok == 0)
            {
                throw DeviceMapperException.For(operation, name, dm_task_get_errno(task), detail);
            }
            return read(task);
        }
    }

    private static bool libraryChecked;
    private static bool controlProtected;

    private static void EnsureLibrary()
    {
        if (libraryChecked)
        {
            return;
        }
        if (!LibDevMapperLoader.TryLoad(out _))
        {
            throw new DeviceMapperUnavailableException(LibraryMissingMessage(OsRelease.Current()));
        }
        DeviceMapperLog.EnsureInstalled();
        libraryChecked = true;
    }

    /// <summary>What a host without libdevmapper is told: the sonames tried, and its own family's package.</summary>
    internal static string LibraryMissingMessage(OsRelease host) =>
        $"libdevmapper was not found (tried {string.Join(", ", LibDevMapperLoader.Sonames)}). " +
        HelperPackages.InstallAdvice(HelperPackages.LibDevMapper, host);

    /// <summary>The dm ioctls check CAP_SYS_ADMIN (bit 21 of the effective set), not the uid.</summary>
    private static bool HasSysAdminCapability()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
            return line is null || (Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16) & (1UL << 21)) != 0;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static DeviceMapperUnavailableException Unavailable()
    {
        if (Tmds.Linux.LibC.geteuid() != 0)
        {
            return new DeviceMapperUnavailableException(
                $"device-mapper requires root: this process runs as uid {Tmds.Linux.LibC.geteuid()}. Run pwsh as root (sudo).", Errno.EACCES);
        }
        if (!HasSysAdminCapability())
        {
            return new DeviceMapperUnavailableException(
                "device-mapper requires root: this process runs without CAP_SYS_ADMIN (a container or a capability-dropping wrapper?). Run pwsh as root with its capabilities.", Errno.EACCES);
        }
        var misc = File.Exists("/proc/misc") ? File.ReadAllText("/proc/misc") : "";
        if (!misc.Contains("device-mapper", StringComparison.Ordinal))
        {
            return new DeviceMapperUnavailableException(
                "The running kernel has no device-mapper driver (no 'device-mapper' in /proc/misc). Load it with 'modprobe dm_thin_pool', or use a kernel that has it.",
                Errno.ENODEV);
        }
        return new DeviceMapperUnavailableException(
            "libdevmapper could not open /dev/mapper/control. Check that the node exists and matches the driver in /proc/misc (dmsetup mknodes).",
            Errno.ENODEV);
    }
}
