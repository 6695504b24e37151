namespace DmPowerShell.Kernel;

/// <summary>Whether the kernel could report a target's status at all.</summary>
public enum TargetHealth
{
    Ok,
    /// <summary>The target reported `Fail` (the pool or device has failed).</summary>
    Fail,
    /// <summary>The target reported `Error` (it could not read its own status).</summary>
    Error,
    /// <summary>The thin device's pool is gone or suspended: status `-`.</summary>
    Unavailable,
}
