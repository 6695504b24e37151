using System.Management.Automation;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;

namespace DmPowerShell.Commands;

/// <summary>The core's exceptions as ErrorRecords: stable ids, real categories, the target object.</summary>
public static class ErrorMapping
{
    public static ErrorRecord ToErrorRecord(Exception e, object? target)
    {
        var (id, category) = Classify(e);
        var record = new ErrorRecord(e, id, category, (e as DmPowerShellException)?.Target ?? target);
        if (e is DeviceMapperException dm && dm is not DeviceMapperUnavailableException)
        {
            record.ErrorDetails = new ErrorDetails(e.Message)
            {
                RecommendedAction = dm.Errno switch
                {
                    Errno.EBUSY => "Find what holds the device (mounts, open handles, stacked devices) and release it.",
                    Errno.ENXIO => "The device is gone; list devices with Get-ThinPool or dmsetup ls.",
                    Errno.EPERM or Errno.EACCES => "Run as root.",
                    _ => "Check the kernel log (dmesg) for device-mapper messages.",
                },
            };
        }
        return record;
    }

    public static (string Id, ErrorCategory Category) Classify(Exception e) => (ErrorIds.Of(e), e switch
    {
        DmPowerShellException d => Category(d.Kind),
        DeviceMapperUnavailableException u when u.Errno == Errno.EACCES => ErrorCategory.PermissionDenied,
        DeviceMapperUnavailableException => ErrorCategory.ResourceUnavailable,
        DeviceNotFoundException => ErrorCategory.ObjectNotFound,
        DeviceBusyException => ErrorCategory.ResourceBusy,
        DeviceExistsException => ErrorCategory.ResourceExists,
        DeviceMapperException d when d.Errno is Errno.EPERM or Errno.EACCES => ErrorCategory.PermissionDenied,
        DeviceMapperException => ErrorCategory.InvalidOperation,
        LockTimeoutException => ErrorCategory.OperationTimeout,
        NativeCallException n => n.Errno switch
        {
            Errno.EACCES or Errno.EPERM => ErrorCategory.PermissionDenied,
            Errno.ENOENT or Errno.ENXIO or Errno.ENODEV => ErrorCategory.ObjectNotFound,
            Errno.EBUSY => ErrorCategory.ResourceBusy,
            Errno.EINVAL => ErrorCategory.InvalidArgument,
            _ => ErrorCategory.WriteError,
        },
        UnauthorizedAccessException => ErrorCategory.PermissionDenied,
        IOException => ErrorCategory.WriteError,
        _ => ErrorCategory.NotSpecified,
    });

    private static ErrorCategory Category(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.AlreadyExists => ErrorCategory.ResourceExists,
        ErrorKind.ResourceBusy => ErrorCategory.ResourceBusy,
        ErrorKind.InvalidState => ErrorCategory.InvalidOperation,
        ErrorKind.NotSupported => ErrorCategory.NotImplemented,
        ErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        ErrorKind.Unavailable => ErrorCategory.ResourceUnavailable,
        ErrorKind.Timeout => ErrorCategory.OperationTimeout,
        ErrorKind.InvalidData => ErrorCategory.InvalidData,
        _ => ErrorCategory.InvalidOperation,
    };
}
