namespace DmPowerShell;

/// <summary>The kind of a failure, which the cmdlets map to an ErrorCategory.</summary>
public enum ErrorKind
{
    InvalidArgument,
    NotFound,
    AlreadyExists,
    ResourceBusy,
    InvalidState,
    NotSupported,
    PermissionDenied,
    Unavailable,
    Timeout,
    OperationFailed,
    /// <summary>Input whose content is damaged or not what it claims (a cut or altered stream).</summary>
    InvalidData,
}
