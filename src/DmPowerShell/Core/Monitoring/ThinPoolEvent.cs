using DmPowerShell.Kernel;

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

/// <summary>Which of the pool's two spaces an event concerns.</summary>
public enum PoolSpace
{
    Data,
    Metadata,
}

/// <summary>One event of Watch-ThinPool. Sizes are bytes; percentages are of the pool's current size.</summary>
public sealed record ThinPoolEvent
{
    public DateTimeOffset Time { get; init; } = DateTimeOffset.Now;
    /// <summary>The module's pool name, or the device-mapper name of a pool it does not manage.</summary>
    public required string Name { get; init; }
    public required string DeviceName { get; init; }
    public PoolEventKind Kind { get; init; }
    public PoolSpace? Space { get; init; }
    public PoolMode? Mode { get; init; }
    public PoolMode? PreviousMode { get; init; }
    public bool NeedsCheck { get; init; }
    public double DataUsedPercent { get; init; }
    public double MetadataUsedPercent { get; init; }
    public long DataSpaceTotal { get; init; }
    public long MetadataSpaceTotal { get; init; }
    /// <summary>Extended: the size before and after the step.</summary>
    public long? OldSize { get; init; }
    public long? NewSize { get; init; }
    /// <summary>Whether this watcher grows the pool (the module's loop and direct pools with autoextend on).</summary>
    public bool Extends { get; init; }
    /// <summary>ExtensionFailed: the stable error id of the failure.</summary>
    public string? ErrorId { get; init; }
    public string Message { get; init; } = "";

    public override string ToString() => $"{Time:yyyy-MM-dd HH:mm:ss} {Name} {Kind}: {Message}";
}
