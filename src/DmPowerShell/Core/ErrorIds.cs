namespace DmPowerShell;

/// <summary>Stable error ids. They are part of the module's contract: never rename one.</summary>
public static class ErrorIds
{
    public const string InvalidName = "InvalidName";
    public const string NameTaken = "NameTaken";
    public const string InvalidSize = "InvalidSize";
    public const string InvalidBlockSize = "InvalidBlockSize";
    public const string MetadataSizeOutOfRange = "MetadataSizeOutOfRange";
    public const string InvalidSetting = "InvalidSetting";
    public const string PoolNotFound = "PoolNotFound";
    public const string PoolInactive = "PoolInactive";
    public const string VolumesActive = "VolumesActive";
    public const string ShrinkNotSupported = "ShrinkNotSupported";
    public const string DeviceNotFound = "DeviceNotFound";
    public const string DeviceInUse = "DeviceInUse";
    public const string DeviceHasSignature = "DeviceHasSignature";
    public const string SameDevice = "SameDataAndMetadataDevice";
    public const string BackingFileExists = "BackingFileExists";
    public const string BackingFileMissing = "BackingFileMissing";
    public const string StateRootInvalid = "StateRootInvalid";
    public const string DeviceMapperUnavailable = "DeviceMapperUnavailable";
    public const string NotRoot = "NotRoot";
    public const string LockTimeout = "LockTimeout";
    public const string DeviceMapperFailed = "DeviceMapperFailed";
    public const string PoolUnhealthy = "PoolUnhealthy";
    public const string RecordCorrupt = "RecordCorrupt";
    public const string MetadataUnreadable = "MetadataUnreadable";
    public const string SpareDeviceRequired = "SpareDeviceRequired";
    public const string BackupNotFound = "BackupNotFound";
    public const string PoolActive = "PoolActive";
    public const string PoolNotOwned = "PoolNotOwned";
    public const string PoolHandedOver = "PoolHandedOver";
    public const string VolumeNotFound = "VolumeNotFound";
    public const string SnapshotNotRelated = "SnapshotNotRelated";
    public const string StreamCorrupt = "StreamCorrupt";
    public const string StreamBaseMismatch = "StreamBaseMismatch";
    public const string DeviceExists = "DeviceExists";
    public const string AccessDenied = "AccessDenied";
    public const string IOError = "IOError";
    public const string UnexpectedError = "UnexpectedError";
    public const string ThinIdsExhausted = "ThinIdsExhausted";
    public const string ToolMissing = "ToolMissing";
    public const string ToolTimeout = "ToolTimeout";
    public const string ProbeFailed = "ProbeFailed";
    public const string PoolLowOnSpace = "PoolLowOnSpace";
    public const string FormatFailed = "FormatFailed";
    public const string NotMounted = "NotMounted";
    public const string UnknownFileSystem = "UnknownFileSystem";
    public const string FileSystemResizeFailed = "FileSystemResizeFailed";
    public const string SystemCallFailed = "SystemCallFailed";
    public const string PoolWatched = "PoolWatched";
    public const string LvmCommandFailed = "LvmCommandFailed";

    /// <summary>The stable id of any failure the core raises (the cmdlets add the category).</summary>
    public static string Of(Exception e) => e switch
    {
        DmPowerShellException d => d.ErrorId,
        Kernel.DeviceMapperUnavailableException u when u.Errno == Interop.Errno.EACCES => NotRoot,
        Kernel.DeviceMapperUnavailableException => DeviceMapperUnavailable,
        Kernel.DeviceNotFoundException => DeviceNotFound,
        Kernel.DeviceBusyException => DeviceInUse,
        Kernel.DeviceExistsException => DeviceExists,
        Kernel.DeviceMapperException d when d.Errno is Interop.Errno.EPERM or Interop.Errno.EACCES => NotRoot,
        Kernel.DeviceMapperException => DeviceMapperFailed,
        Registry.LockTimeoutException => LockTimeout,
        Interop.NativeCallException => SystemCallFailed,
        UnauthorizedAccessException => AccessDenied,
        IOException => IOError,
        _ => UnexpectedError,
    };

    /// <summary>Failures a service reports to its caller, as opposed to bugs.</summary>
    public static bool IsExpected(Exception e) =>
        e is DmPowerShellException or Kernel.DeviceMapperException or Registry.LockTimeoutException
            or Interop.NativeCallException or IOException or UnauthorizedAccessException;
}
