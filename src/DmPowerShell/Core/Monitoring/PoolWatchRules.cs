using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Monitoring;

/// <summary>The watcher's decisions, pure: the previous state and a new observation in, events and steps out.</summary>
public static class PoolWatchRules
{
    /// <summary>Where a space is reported when its autoextend is off: dmeventd's first warning.</summary>
    public const int ReportThresholdPercent = 80;

    /// <summary>At most this many steps per check, so a broken size can never loop for ever.</summary>
    public const int MaxStepsPerCheck = 32;

    public static int DataThreshold(WatchPolicy policy) => policy.Data.Enabled ? policy.Data.ThresholdPercent : ReportThresholdPercent;

    public static int MetadataThreshold(WatchPolicy policy) => policy.Metadata.Enabled ? policy.Metadata.ThresholdPercent : ReportThresholdPercent;

    /// <summary>An event stamped with the observation's figures.</summary>
    public static ThinPoolEvent Event(string name, string device, PoolObservation now, WatchPolicy policy, PoolEventKind kind, string message) => new()
    {
        Name = name,
        DeviceName = device,
        Kind = kind,
        Mode = now.Mode,
        NeedsCheck = now.NeedsCheck,
        DataUsedPercent = now.DataUsedPercent,
        MetadataUsedPercent = now.MetadataUsedPercent,
        DataSpaceTotal = now.DataSize,
        MetadataSpaceTotal = now.MetadataSize,
        Extends = policy.Extends && (policy.Data.Enabled || policy.Metadata.Enabled),
        Message = message,
    };

    /// <summary>The events this observation gives, and the steps due; updates <paramref name="state"/>.</summary>
    public static (List<ThinPoolEvent> Events, List<Extension> Steps) Evaluate(string name, string device, WatchState state, PoolObservation now, WatchPolicy policy)
    {
        var events = new List<ThinPoolEvent>();
        var steps = new List<Extension>();
        void Add(PoolEventKind kind, string message, PoolSpace? space = null) =>
            events.Add(Event(name, device, now, policy, kind, message) with { Space = space });

        if (state.Mode is { } before && before != now.Mode)
        {
            events.Add(Event(name, device, now, policy, PoolEventKind.ModeChanged, $"mode {ModeName(before)} -> {ModeName(now.Mode)}") with { PreviousMode = before });
        }
        state.Mode = now.Mode;
        if (now.NeedsCheck && !state.NeedsCheck)
        {
            Add(PoolEventKind.NeedsCheck, "the kernel flagged the metadata for a check: the pool stays read-only until Repair-ThinPool");
        }
        state.NeedsCheck = now.NeedsCheck;
        // Growing a pool whose metadata may be damaged, or that the user made read-only, is not the watcher's call.
        var canGrow = policy.Extends && !now.NeedsCheck && now.Mode != PoolMode.ReadOnly;

        var dataThreshold = DataThreshold(policy);
        var dataAbove = now.DataUsedPercent >= dataThreshold || now.Mode == PoolMode.OutOfDataSpace;
        if (dataAbove && !state.DataAbove)
        {
            Add(PoolEventKind.DataThreshold, $"data {now.DataUsedPercent}% used of {ByteSize.Format(now.DataSize)} (threshold {dataThreshold}%){What(policy, policy.Data, canGrow)}", PoolSpace.Data);
        }
        state.DataAbove = dataAbove;
        var dataDue = policy.Data.Enabled && (now.DataUsedPercent >= policy.Data.ThresholdPercent || now.Mode == PoolMode.OutOfDataSpace);
        if (dataDue && canGrow)
        {
            var limit = Math.Min(policy.DataLimit, policy.Data.MaximumSize ?? long.MaxValue) / now.BlockSize * now.BlockSize;
            var next = Math.Min(policy.Data.NextSize(now.DataSize, now.BlockSize), limit);
            if (next > now.DataSize)
            {
                steps.Add(new Extension(PoolSpace.Data, now.DataSize, next));
            }
            else if (!state.DataLimitReported)
            {
                Add(PoolEventKind.LimitReached, $"data {now.DataUsedPercent}% used, but the pool is at its limit of {ByteSize.Format(now.DataSize)}{LimitReason(policy.DataLimit, policy.Data.MaximumSize)}", PoolSpace.Data);
                state.DataLimitReported = true;
            }
        }
        if (!dataDue) state.DataLimitReported = false;

        var metadataThreshold = MetadataThreshold(policy);
        var metadataAbove = now.MetadataUsedPercent >= metadataThreshold;
        if (metadataAbove && !state.MetadataAbove)
        {
            Add(PoolEventKind.MetadataThreshold, $"metadata {now.MetadataUsedPercent}% used of {ByteSize.Format(now.MetadataSize)} (threshold {metadataThreshold}%){What(policy, policy.Metadata, canGrow)}", PoolSpace.Metadata);
        }
        state.MetadataAbove = metadataAbove;
        var metadataDue = policy.Metadata.Enabled && now.MetadataUsedPercent >= policy.Metadata.ThresholdPercent;
        if (metadataDue && canGrow)
        {
            var granularity = PoolSpec.MetadataBlockSize;
            var limit = Math.Min(Math.Min(policy.MetadataLimit, PoolSpec.MaxMetadataSize), policy.Metadata.MaximumSize ?? long.MaxValue) / granularity * granularity;
            var next = Math.Min(policy.Metadata.NextSize(now.MetadataSize, granularity), limit);
            if (next > now.MetadataSize)
            {
                steps.Add(new Extension(PoolSpace.Metadata, now.MetadataSize, next));
            }
            else if (!state.MetadataLimitReported)
            {
                Add(PoolEventKind.LimitReached, $"metadata {now.MetadataUsedPercent}% used, but it is at its limit of {ByteSize.Format(now.MetadataSize)}{LimitReason(policy.MetadataLimit, policy.Metadata.MaximumSize)}", PoolSpace.Metadata);
                state.MetadataLimitReported = true;
            }
        }
        if (!metadataDue) state.MetadataLimitReported = false;
        return (events, steps);
    }

    private static string What(WatchPolicy policy, AutoextendPolicy space, bool canGrow) =>
        policy.ReportOnlyReason is { } reason ? $"; {reason}"
        : !space.Enabled ? "; autoextend is off (Set-ThinPool turns it on)"
        : !canGrow ? "; not extending a read-only or flagged pool"
        : "; extending";

    private static string LimitReason(long deviceLimit, long? maximum) =>
        maximum is { } max && max <= deviceLimit ? $" (the policy's maximum {ByteSize.Format(max)})" : " (the end of its device)";

    public static string ModeName(PoolMode mode) => mode switch
    {
        PoolMode.ReadWrite => "rw",
        PoolMode.ReadOnly => "ro",
        PoolMode.OutOfDataSpace => "out_of_data_space",
        _ => mode.ToString(),
    };
}
