namespace DmPowerShell.Kernel;

/// <summary>What the pool does when it runs out of data space.</summary>
public enum NoSpacePolicy
{
    /// <summary>Writes are queued until space arrives or a timeout (the kernel's default).</summary>
    Queue,
    /// <summary>Writes fail at once (error_if_no_space).</summary>
    Error,
}
