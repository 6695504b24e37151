using System.Globalization;

namespace DmPowerShell.Kernel;

/// <summary>The messages a thin pool understands (sent to sector 0 of the pool).</summary>
public sealed record PoolMessage(string Text)
{
    public static PoolMessage CreateThin(ThinId id) => new($"create_thin {id}");
    public static PoolMessage CreateSnapshot(ThinId id, ThinId origin) => new($"create_snap {id} {origin}");
    public static PoolMessage Delete(ThinId id) => new($"delete {id}");
    public static PoolMessage SetTransactionId(ulong current, ulong next) =>
        new(string.Create(CultureInfo.InvariantCulture, $"set_transaction_id {current} {next}"));
    public static PoolMessage ReserveMetadataSnapshot() => new("reserve_metadata_snap");
    public static PoolMessage ReleaseMetadataSnapshot() => new("release_metadata_snap");

    public override string ToString() => Text;
}
