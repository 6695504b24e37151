namespace DmPowerShell.Pools;

/// <summary>One row of a pool drawn as a device tree, like lsblk: the pool, its data and metadata, its thin devices by snapshot chain.</summary>
public sealed record PoolTreeNode
{
    public required string Pool { get; init; }

    /// <summary>The row's name with its tree prefix ("├─", "│ └─"), as lsblk draws it.</summary>
    public required string Tree { get; init; }

    public required string Name { get; init; }

    /// <summary>thin-pool, data, metadata, thin or snapshot.</summary>
    public required string Type { get; init; }

    public long Size { get; init; }

    /// <summary>major:minor while active.</summary>
    public string? Device { get; init; }

    /// <summary>The device node, or for data and metadata the backing file or device.</summary>
    public string? Path { get; init; }

    public bool Active { get; init; }

    public int Depth { get; init; }

    public override string ToString() => Tree;
}
