namespace DmPowerShell.Pools.Backings;

/// <summary>Resize-ThinPool's request: sizes left null stay; LVM mode may add physical volumes first.</summary>
public sealed record PoolResize(long? DataSize, long? MetadataSize)
{
    public IReadOnlyList<string> PhysicalDevices { get; init; } = Array.Empty<string>();
    public bool Force { get; init; }
}
