using System.Text.Json;

namespace DmPowerShell.Registry;

/// <summary>The pool's <see cref="VolumeSummary"/> in summary.json: how <see cref="Apply"/> keeps it, and who may trust it.</summary>
public sealed partial class VolumeStore
{
    // The summary as the records stand, while this store's own journal is written (a change in
    // flight): taken from the file before the journal, kept up to date by Apply, written by Finish.
    private bool ownJournal;
    private VolumeSummary? summary;
    private bool summaryChanged;

    private string SummaryFile => Path.Combine(folder, "summary.json");

    /// <summary>The summary once the records are deleted then saved; null when only every record can tell.</summary>
    private VolumeSummary? Summarize(VolumeSummary before, IEnumerable<VolumeRecord> save, IEnumerable<VolumeRecord> delete)
    {
        VolumeSummary? after = before;
        var deleted = new HashSet<uint>();
        foreach (var record in delete)
        {
            if (File.Exists(RecordFile(record.ThinId)) && deleted.Add(record.ThinId)) after = after?.With(record, null);
        }
        foreach (var record in save)
        {
            VolumeRecord? old;
            try
            {
                old = deleted.Contains(record.ThinId) ? null : FindById(record.ThinId);
            }
            catch (DmPowerShellException)
            {
                return null; // a torn record being rewritten: count them all
            }
            after = after?.With(old, record);
        }
        return after;
    }

    /// <summary>
    /// The pool's summary when it can be trusted: written, and no journal present (a change in
    /// flight, or one a crash interrupted, may have written records but not the summary yet).
    /// Null means: count the records. A reader needs no lock; it sees the pool before a change
    /// or after it.
    /// </summary>
    public VolumeSummary? TrustedSummary()
    {
        if (ReadJournal() is not null) return null;
        try
        {
            return DurableFile.ReadIfExists(SummaryFile) is { } bytes ? JsonSerializer.Deserialize<VolumeSummary>(bytes, PoolRegistry.Json) : null;
        }
        catch (JsonException)
        {
            return null; // rebuilt by the next change
        }
    }

    public string SummaryPath => SummaryFile;

    /// <summary>Writes the summary as every record counts it (Repair-ThinPool, when Test-ThinPool found it stale). Under the pool's lock.</summary>
    public VolumeSummary RebuildSummary()
    {
        var value = VolumeSummary.Of(List());
        EnsureFolder(folder);
        WriteSummary(value, syncFolder: true);
        return value;
    }

    /// <summary>The summary, trusted or counted from every record.</summary>
    public VolumeSummary Summary() => TrustedSummary() ?? VolumeSummary.Of(List());

    private void WriteSummary(VolumeSummary value, bool syncFolder) =>
        DurableFile.Write(SummaryFile, JsonSerializer.SerializeToUtf8Bytes(value, PoolRegistry.Json), syncFolder);
}
