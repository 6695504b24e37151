namespace DmPowerShell.Monitoring;

/// <summary>What happened to a watched pool.</summary>
public enum PoolEventKind
{
    /// <summary>The watch began; the event carries the pool's usage and what the watcher will do.</summary>
    Started,
    /// <summary>Used data space reached the autoextend threshold (80 % when autoextend is off).</summary>
    DataThreshold,
    /// <summary>Used metadata space reached its threshold.</summary>
    MetadataThreshold,
    /// <summary>The pool's mode changed: read-write, read-only, out of data space.</summary>
    ModeChanged,
    /// <summary>The kernel flagged the pool's metadata for a check (Repair-ThinPool).</summary>
    NeedsCheck,
    /// <summary>The watcher grew the pool's data or metadata space by one step.</summary>
    Extended,
    /// <summary>A step was due but failed; the error id says why. Tried again at the next check.</summary>
    ExtensionFailed,
    /// <summary>A step was due but the maximum size (or the device's end) is reached.</summary>
    LimitReached,
    /// <summary>The pool was deactivated; the watch goes on and reports it when it is back.</summary>
    Inactive,
    /// <summary>An inactive pool is active again.</summary>
    Active,
    /// <summary>The pool was removed; the watch of it ends.</summary>
    Removed,
}
