using System.Text;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Pools;

/// <summary>Applies and checks a <see cref="PoolPolicyChange"/> (pure: the record in, the record out).</summary>
public static class PoolPolicies
{
    public static PoolRecord Apply(PoolRecord record, PoolPolicyChange change)
    {
        static AutoextendPolicy With(AutoextendPolicy policy, int? threshold, int? percent, long? bytes, long? maximum, string space, long current, long granularity, long limit)
        {
            if (threshold is < 50 or > 100)
            {
                throw PoolRules.Invalid(ErrorIds.InvalidSetting, $"The {space} autoextend threshold must be 50 to 100 percent used (100 turns it off, as in LVM); {threshold} is not.", threshold);
            }
            if (percent is < 1 or > 100)
            {
                throw PoolRules.Invalid(ErrorIds.InvalidSetting, $"The {space} autoextend step must be 1 to 100 percent of the current size; {percent} is not.", percent);
            }
            if (bytes is { } step && (step <= 0 || step % granularity != 0))
            {
                throw PoolRules.Invalid(ErrorIds.InvalidSize, $"The {space} autoextend step must be a positive multiple of {ByteSize.Format(granularity)}; {ByteSize.Format(step)} is not.", step);
            }
            if (maximum is { } max && (max < current || max > limit || max % granularity != 0))
            {
                throw PoolRules.Invalid(ErrorIds.InvalidSize,
                    $"The maximum {space} size must be a multiple of {ByteSize.Format(granularity)} from the current {ByteSize.Format(current)} to {ByteSize.Format(limit)}; {ByteSize.Format(max)} is not.", max);
            }
            return policy with
            {
                ThresholdPercent = threshold ?? policy.ThresholdPercent,
                // A step given one way replaces the other.
                StepPercent = percent ?? policy.StepPercent,
                StepBytes = percent is not null ? null : bytes ?? policy.StepBytes,
                MaximumSize = maximum ?? policy.MaximumSize,
            };
        }
        if (change.MinimumFreeSpacePercent is < 0 or > 99)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSetting, $"The minimum free space must be 0 to 99 percent; {change.MinimumFreeSpacePercent} is not.", change.MinimumFreeSpacePercent);
        }
        return record with
        {
            DataAutoextend = With(record.DataAutoextend, change.DataThresholdPercent, change.DataStepPercent, change.DataStepBytes, change.DataMaximumSize,
                "data", record.DataSize, record.BlockSize, long.MaxValue / 2),
            MetadataAutoextend = With(record.MetadataAutoextend, change.MetadataThresholdPercent, change.MetadataStepPercent, change.MetadataStepBytes, change.MetadataMaximumSize,
                "metadata", record.MetadataSize, PoolSpec.MetadataBlockSize, PoolSpec.MaxMetadataSize),
            MinimumFreeSpacePercent = change.MinimumFreeSpacePercent ?? record.MinimumFreeSpacePercent,
            NoSpacePolicy = change.NoSpacePolicy ?? record.NoSpacePolicy,
            HandedTo = change.HandedTo ?? record.HandedTo,
        };
    }

    /// <summary>The changes, one line each, for -WhatIf; empty when nothing changes.</summary>
    public static string Describe(PoolRecord before, PoolRecord after)
    {
        var plan = new StringBuilder();
        void Line(string what, object from, object to)
        {
            if (!Equals(from.ToString(), to.ToString())) plan.AppendLine($"{what}: {from} -> {to}");
        }
        Line("data autoextend", before.DataAutoextend, after.DataAutoextend);
        Line("metadata autoextend", before.MetadataAutoextend, after.MetadataAutoextend);
        Line("minimum free space", $"{before.MinimumFreeSpacePercent}%", $"{after.MinimumFreeSpacePercent}%");
        Line("no-space behaviour", before.NoSpacePolicy, after.NoSpacePolicy);
        Line("handed to", before.HandedTo, after.HandedTo);
        return plan.ToString().TrimEnd();
    }
}
