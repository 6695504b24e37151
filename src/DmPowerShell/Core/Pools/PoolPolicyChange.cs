using DmPowerShell.Kernel;

namespace DmPowerShell.Pools;

/// <summary>What Set-ThinPool changes: only the settings given (null leaves one as it is).</summary>
public sealed record PoolPolicyChange
{
    public int? DataThresholdPercent { get; init; }
    public int? DataStepPercent { get; init; }
    public long? DataStepBytes { get; init; }
    public long? DataMaximumSize { get; init; }
    public int? MetadataThresholdPercent { get; init; }
    public int? MetadataStepPercent { get; init; }
    public long? MetadataStepBytes { get; init; }
    public long? MetadataMaximumSize { get; init; }
    public int? MinimumFreeSpacePercent { get; init; }
    public NoSpacePolicy? NoSpacePolicy { get; init; }
    public Registry.PoolRuntime? HandedTo { get; init; }
}
