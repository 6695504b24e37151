using System.Text.Json.Serialization;

namespace DmPowerShell.Registry;

/// <summary>
/// LVM's thin_pool_autoextend_threshold and _percent, per space: at <see cref="ThresholdPercent"/>
/// used, grow by <see cref="StepPercent"/> of the current size (or by <see cref="StepBytes"/>),
/// never past <see cref="MaximumSize"/>. A threshold of 100 means off, as in LVM.
/// </summary>
public sealed record AutoextendPolicy
{
    public static AutoextendPolicy Off { get; } = new();

    public int ThresholdPercent { get; init; } = 100;
    public int StepPercent { get; init; } = 20;
    public long? StepBytes { get; init; }
    public long? MaximumSize { get; init; }

    [JsonIgnore]
    public bool Enabled => ThresholdPercent < 100;

    /// <summary>The size after one step from <paramref name="current"/>, capped at the maximum.</summary>
    public long NextSize(long current, long granularity)
    {
        var step = StepBytes ?? current * StepPercent / 100;
        var next = (current + Math.Max(step, granularity) + granularity - 1) / granularity * granularity;
        return MaximumSize is { } maximum ? Math.Min(next, maximum) : next;
    }

    public override string ToString() => !Enabled ? "off"
        : $"at {ThresholdPercent}% used, +{(StepBytes is { } bytes ? Units.ByteSize.Format(bytes) : $"{StepPercent}%")}{(MaximumSize is { } max ? $", up to {Units.ByteSize.Format(max)}" : "")}";
}
