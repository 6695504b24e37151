namespace DmPowerShell.Health;

/// <summary>One disagreement between the registry, the live devices and the pool's metadata.</summary>
public sealed record PoolProblem
{
    public required string Pool { get; init; }
    public required ProblemKind Kind { get; init; }
    public uint? ThinId { get; init; }
    /// <summary>The volume or device the problem is about, when there is one.</summary>
    public string? Name { get; init; }
    public required string Description { get; init; }
    /// <summary>What Repair-ThinPool does about it; null when it only reports.</summary>
    public string? Repair { get; init; }
    public bool Repairable => Repair is not null;

    public override string ToString() => $"{Pool}: {Kind}: {Description}";
}
