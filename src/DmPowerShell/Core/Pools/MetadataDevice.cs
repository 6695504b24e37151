namespace DmPowerShell.Pools;

/// <summary>One thin device as the pool's own metadata knows it (thin_dump's &lt;device&gt;).</summary>
public sealed record MetadataDevice(uint Id, ulong MappedBlocks, ulong Transaction, uint CreationTime, uint SnapshotTime);
