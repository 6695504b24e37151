using DmPowerShell.Kernel;

namespace DmPowerShell.Monitoring;

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
