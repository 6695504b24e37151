namespace DmPowerShell.Registry;

/// <summary>
/// What a reader of a whole pool needs from its records without reading each one: how many
/// volumes, how much they provision, and the base volume (the lowest thin id without an origin:
/// docker's "Base Device Size"). <see cref="VolumeStore"/> keeps it in summary.json beside the
/// records with every change of them; it is trusted only while no journal is present.
/// </summary>
public sealed record VolumeSummary
{
    public int Schema { get; init; } = 1;
    public int Count { get; init; }
    public long ProvisionedBytes { get; init; }
    public uint? BaseThinId { get; init; }
    public long? BaseSize { get; init; }
    public string? BaseFileSystem { get; init; }

    public static VolumeSummary Of(IEnumerable<VolumeRecord> records)
    {
        var summary = new VolumeSummary();
        foreach (var record in records)
        {
            summary = summary with { Count = summary.Count + 1, ProvisionedBytes = summary.ProvisionedBytes + record.Size };
            if (record.OriginId is null && (summary.BaseThinId is not { } known || record.ThinId < known))
            {
                summary = summary.WithBase(record);
            }
        }
        return summary;
    }

    /// <summary>
    /// The summary once one record changes from <paramref name="old"/> to <paramref name="now"/>
    /// (null: absent before, or after); null when only every record can tell (the base volume
    /// was removed or became a snapshot, so the next one must be looked for).
    /// </summary>
    public VolumeSummary? With(VolumeRecord? old, VolumeRecord? now)
    {
        var summary = this with
        {
            Count = Count + (now is null ? 0 : 1) - (old is null ? 0 : 1),
            ProvisionedBytes = ProvisionedBytes + (now?.Size ?? 0) - (old?.Size ?? 0),
        };
        if (old is not null && old.ThinId == BaseThinId)
        {
            return now is { OriginId: null } ? summary.WithBase(now) : null;
        }
        return now is { OriginId: null } && (BaseThinId is not { } known || now.ThinId < known) ? summary.WithBase(now) : summary;
    }

    private VolumeSummary WithBase(VolumeRecord record) =>
        this with { BaseThinId = record.ThinId, BaseSize = record.Size, BaseFileSystem = record.FileSystem };
}
