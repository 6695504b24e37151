using DmPowerShell.Registry;

namespace DmPowerShell.Health;

/// <summary>The registry half of an export: the pool's record, its volumes' records and the id counter.</summary>
public sealed record RegistryExport
{
    public int Schema { get; init; } = 1;
    public required PoolRecord Pool { get; init; }
    public required IReadOnlyList<VolumeRecord> Volumes { get; init; }
    public uint NextId { get; init; }
    public ulong TransactionId { get; init; }
    public DateTimeOffset Created { get; init; }
}
