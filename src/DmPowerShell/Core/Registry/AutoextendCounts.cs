namespace DmPowerShell.Registry;

/// <summary>
/// How often the watcher grew a pool, kept beside its record (autoextend.json) so the count
/// outlives the watcher's process: Prometheus reads it as a counter.
/// </summary>
public sealed record AutoextendCounts
{
    public long Data { get; init; }

    public long Metadata { get; init; }

    public DateTimeOffset? Last { get; init; }
}
