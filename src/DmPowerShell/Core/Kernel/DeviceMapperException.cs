namespace DmPowerShell.Kernel;

/// <summary>A device-mapper call failed. Carries the errno that libdevmapper reported.</summary>
public class DeviceMapperException : Exception
{
    public DeviceMapperException(DmOperation operation, string? device, int errno, string? detail = null, string? message = null)
        : base(message ?? Compose(operation, device, errno, detail))
    {
        Operation = operation;
        Device = device;
        Errno = errno;
        Detail = detail;
    }

    public DmOperation Operation { get; }

    /// <summary>The dm device name the call was about, if any.</summary>
    public string? Device { get; }

    /// <summary>The errno from dm_task_get_errno (0 when libdm failed before the ioctl).</summary>
    public int Errno { get; }

    /// <summary>The table line or message involved, if any.</summary>
    public string? Detail { get; }

    private static string Compose(DmOperation operation, string? device, int errno, string? detail)
    {
        var what = operation.ToString().ToLowerInvariant();
        var target = device is null ? "" : $" of '{device}'";
        var reason = errno == 0 ? "libdevmapper refused the request" : Interop.Errno.Describe(errno);
        var extra = detail is null ? "" : $" [{detail}]";
        return $"device-mapper {what}{target} failed: {reason}{extra}";
    }

    /// <summary>The most specific exception type for an errno.</summary>
    public static DeviceMapperException For(DmOperation operation, string? device, int errno, string? detail = null) => errno switch
    {
        Interop.Errno.ENXIO when operation != DmOperation.Message => new DeviceNotFoundException(operation, device, errno, detail),
        Interop.Errno.EBUSY => new DeviceBusyException(operation, device, errno, detail),
        Interop.Errno.EEXIST => new DeviceExistsException(operation, device, errno, detail),
        _ => new DeviceMapperException(operation, device, errno, detail),
    };
}
