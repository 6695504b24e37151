namespace DmPowerShell.Health;

/// <summary>What Export-ThinPool wrote: the pool's metadata (thin_dump XML) and its registry, side by side.</summary>
public sealed record PoolBackup
{
    public required string Pool { get; init; }
    public required string MetadataFile { get; init; }
    public required string RegistryFile { get; init; }
    public ulong TransactionId { get; init; }
    public int Volumes { get; init; }
    public DateTimeOffset Created { get; init; }
}
