using System.Runtime.InteropServices;

namespace DmPowerShell.Interop;

/// <summary>The libdevmapper entry points the module uses (lvm2's libdm/libdevmapper.h).</summary>
/// <remarks>
/// libdm is not thread-safe: every call must be made while holding <see cref="Gate"/>.
/// The soname is found by <see cref="LibDevMapperLoader"/> (distributions name the file differently).
/// </remarks>
internal static unsafe partial class LibDevMapper
{
    // Debian's soname; LibDevMapperLoader resolves it to whichever soname this host ships.
    internal const string Library = "libdevmapper.so.1.02.1";

    /// <summary>The process-wide lock that serialises every libdevmapper call.</summary>
    public static readonly object Gate = new();

    public enum TaskType
    {
        Create = 0, Reload = 1, Remove = 2, RemoveAll = 3, Suspend = 4, Resume = 5, Info = 6,
        Deps = 7, Rename = 8, Version = 9, Status = 10, Table = 11, WaitEvent = 12, List = 13,
        Clear = 14, MkNodes = 15, ListVersions = 16, TargetMessage = 17, SetGeometry = 18,
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct DmInfo
    {
        public int Exists;
        public int Suspended;
        public int LiveTable;
        public int InactiveTable;
        public int OpenCount;
        public uint EventNumber;
        public uint Major;
        public uint Minor;
        public int ReadOnly;
        public int TargetCount;
        public int DeferredRemove;
        public int InternalSuspend;
    }

    [LibraryImport(Library)] public static partial IntPtr dm_task_create(int type);
    [LibraryImport(Library)] public static partial void dm_task_destroy(IntPtr task);
    [LibraryImport(Library)] public static partial int dm_task_run(DmTaskHandle task);
    [LibraryImport(Library)] public static partial int dm_task_get_errno(DmTaskHandle task);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int dm_task_set_name(DmTaskHandle task, string name);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int dm_task_set_uuid(DmTaskHandle task, string uuid);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int dm_task_set_newname(DmTaskHandle task, string newName);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int dm_task_add_target(DmTaskHandle task, ulong start, ulong size, string targetType, string parameters);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int dm_task_set_message(DmTaskHandle task, string message);

    [LibraryImport(Library)] public static partial int dm_task_set_sector(DmTaskHandle task, ulong sector);
    [LibraryImport(Library)] public static partial IntPtr dm_task_get_message_response(DmTaskHandle task);
    [LibraryImport(Library)] public static partial int dm_task_get_info(DmTaskHandle task, out DmInfo info);
    [LibraryImport(Library)] public static partial IntPtr dm_task_get_name(DmTaskHandle task);
    [LibraryImport(Library)] public static partial IntPtr dm_task_get_uuid(DmTaskHandle task);
    [LibraryImport(Library)] public static partial IntPtr dm_task_get_names(DmTaskHandle task);
    [LibraryImport(Library)] public static partial IntPtr dm_task_get_deps(DmTaskHandle task);
    [LibraryImport(Library)] public static partial int dm_task_get_driver_version(DmTaskHandle task, byte* version, nuint size);
    [LibraryImport(Library)] public static partial int dm_get_library_version(byte* version, nuint size);

    [LibraryImport(Library)]
    public static partial IntPtr dm_get_next_target(DmTaskHandle task, IntPtr next, out ulong start, out ulong length, out IntPtr targetType, out IntPtr parameters);

    [LibraryImport(Library)] public static partial int dm_task_no_flush(DmTaskHandle task);
    [LibraryImport(Library)] public static partial int dm_task_no_open_count(DmTaskHandle task);
    [LibraryImport(Library)] public static partial int dm_task_skip_lockfs(DmTaskHandle task);
    [LibraryImport(Library)] public static partial int dm_task_set_ro(DmTaskHandle task);
    [LibraryImport(Library)] public static partial int dm_task_deferred_remove(DmTaskHandle task);
    [LibraryImport(Library)] public static partial int dm_task_retry_remove(DmTaskHandle task);

    [LibraryImport(Library)] public static partial int dm_task_set_cookie(DmTaskHandle task, ref uint cookie, ushort udevFlags);
    [LibraryImport(Library)] public static partial int dm_udev_wait(uint cookie);
    [LibraryImport(Library)] public static partial int dm_udev_get_sync_support();
    [LibraryImport(Library)] public static partial void dm_udev_set_sync_support(int syncWithUdev);
    [LibraryImport(Library)] public static partial int dm_cookie_supported();

    [LibraryImport(Library)]
    public static partial void dm_log_with_errno_init(delegate* unmanaged[Cdecl]<int, IntPtr, int, int, IntPtr, void> logFunction);

    public static string? ReadString(IntPtr utf8) => utf8 == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(utf8);
}
