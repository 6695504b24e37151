using System.Globalization;
using System.Text.Json;
using DmPowerShell.Interop;

namespace DmPowerShell.Registry;

/// <summary>
/// The volumes of one pool: <c>volumes/&lt;thin id&gt;.json</c>, a name index of symbolic links
/// <c>names/&lt;name&gt; -&gt; &lt;thin id&gt;</c>, the id counter, the journal and the summary
/// (<see cref="VolumeSummary"/>). Finding, creating, renaming or removing a volume touches a
/// constant number of files, whatever the number of volumes. Callers hold the pool's lock for
/// every change.
/// </summary>
/// <remarks>
/// The summary is kept by <see cref="Apply"/>. Inside a transaction its journal covers the
/// window between the records and the summary: a journal present means a reader does not trust
/// the summary, and the recovery that clears it rebuilds it from every record. A change without
/// a journal (a resize) deletes the summary durably before it writes records, so a crash then
/// leaves no summary rather than a wrong one; the next change rebuilds it.
/// </remarks>
public sealed partial class VolumeStore
{
    private readonly string folder;

    // Kept while the caller holds the pool's lock (Hold): nobody else writes the counter, the
    // journal or the folders then, so each is read once per command rather than once per step.
    private bool held;
    private uint? counter;
    private bool journalKnown;
    private PoolJournal? journal;
    private readonly HashSet<string> folders = new(StringComparer.Ordinal);

    public VolumeStore(PoolRegistry registry, string pool)
    {
        folder = registry.PoolFolder(pool);
        Pool = pool;
    }

    public string Pool { get; }

    /// <summary>The pool's folder in the registry.</summary>
    public string Folder => folder;

    public string JournalPath => JournalFile;
    private string Volumes => Path.Combine(folder, "volumes");
    private string Names => Path.Combine(folder, "names");
    private string JournalFile => Path.Combine(folder, "journal.json");
    private string CounterFile => Path.Combine(folder, "next-id");

    public string RecordPath(uint id) => RecordFile(id);

    /// <summary>The caller now holds the pool's lock: what this store reads of the counter, the journal and its folders stays true until the lock is released.</summary>
    public void Hold()
    {
        held = true;
        counter = null;
        journalKnown = false;
        journal = null;
        folders.Clear();
        ownJournal = false;
    }

    private void EnsureFolder(string path)
    {
        if (held && folders.Contains(path)) return;
        DurableFile.CreateFolder(path);
        if (held) folders.Add(path);
    }

    private string RecordFile(uint id) => Path.Combine(Volumes, id.ToString(CultureInfo.InvariantCulture) + ".json");

    /// <summary>
    /// The record named <paramref name="name"/>. A link whose record carries another name is
    /// stale (a rename cut short by a crash, or an id used again since) and finds nothing.
    /// </summary>
    public VolumeRecord? Find(string name)
    {
        var target = FileDescriptor.ReadLink(Path.Combine(Names, name));
        return target is not null && uint.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            && FindById(id) is { } record && record.Name == name ? record : null;
    }

    public VolumeRecord? FindById(uint id)
    {
        var file = RecordFile(id);
        try
        {
            return DurableFile.ReadIfExists(file) is { } bytes ? JsonSerializer.Deserialize<VolumeRecord>(bytes, PoolRegistry.Json) : null;
        }
        catch (JsonException e)
        {
            throw new DmPowerShellException(ErrorIds.RecordCorrupt, ErrorKind.InvalidState,
                $"The record {file} of pool '{Pool}' cannot be read: {e.Message}. Repair-ThinPool can rebuild it.", file, e);
        }
    }

    public IReadOnlyList<VolumeRecord> List()
    {
        if (!Directory.Exists(Volumes))
        {
            return Array.Empty<VolumeRecord>();
        }
        var result = new List<VolumeRecord>();
        foreach (var file in Directory.EnumerateFiles(Volumes, "*.json"))
        {
            if (uint.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                && FindById(id) is { } record)
            {
                result.Add(record);
            }
        }
        return result.OrderBy(r => r.ThinId).ToList();
    }

    /// <summary>Writes the record and makes sure its name points at it.</summary>
    public void Save(VolumeRecord record) => Apply(new[] { record }, Array.Empty<VolumeRecord>());

    public void Delete(VolumeRecord record) => Apply(Array.Empty<VolumeRecord>(), new[] { record });

    /// <summary>
    /// Writes and deletes records and their names with one folder sync per folder: what a
    /// transaction does once the kernel has committed it. Each file's data is synced before it
    /// is renamed into place, so a crash leaves old or new records, never torn ones.
    /// </summary>
    public void Apply(IEnumerable<VolumeRecord> save, IEnumerable<VolumeRecord> delete, uint? nextId = null)
    {
        save = save.ToList();
        delete = delete.ToList();
        // A journal this store did not write is a recovery's: Finish counts every record then.
        var recovering = !ownJournal && ReadJournal() is not null;
        var before = ownJournal ? summary : recovering ? null : TrustedSummary();
        var after = before is null ? null : Summarize(before, save, delete);
        var summaryMoves = !recovering && (after is null || after != before);
        // Outside a journal, no stale summary may outlive a crash between the records and it.
        if (!ownJournal && summaryMoves) DurableFile.Delete(SummaryFile);

        var namesChanged = false;
        var volumesChanged = false;
        foreach (var record in delete)
        {
            var link = Path.Combine(Names, record.Name);
            if (FileDescriptor.ReadLink(link) == record.ThinId.ToString())
            {
                namesChanged |= FileDescriptor.Unlink(link);
            }
            volumesChanged |= FileDescriptor.Unlink(RecordFile(record.ThinId));
        }
        foreach (var record in save)
        {
            EnsureFolder(Volumes);
            EnsureFolder(Names);
            DurableFile.Write(RecordFile(record.ThinId), JsonSerializer.SerializeToUtf8Bytes(record, PoolRegistry.Json), syncFolder: false);
            volumesChanged = true;
            namesChanged |= Link(record.Name, record.ThinId);
        }
        if (volumesChanged) DurableFile.SyncFolder(Volumes);
        if (namesChanged) DurableFile.SyncFolder(Names);

        if (summaryMoves)
        {
            after ??= VolumeSummary.Of(List());
            if (ownJournal)
            {
                summary = after;
                summaryChanged = true;
            }
            else
            {
                WriteSummary(after, syncFolder: nextId is null);
            }
        }
        if (nextId is not null) Finish(nextId, clearJournal: false);
    }

    /// <summary>
    /// The end of a transaction: the counter moved to <paramref name="nextId"/> and the journal
    /// cleared, with one sync of the pool's folder for both. Records must be durable before.
    /// </summary>
    public void Finish(uint? nextId, bool clearJournal = true)
    {
        var changed = false;
        if (nextId is { } next && next > Counter)
        {
            EnsureFolder(folder);
            DurableFile.Write(CounterFile, System.Text.Encoding.ASCII.GetBytes(next.ToString(CultureInfo.InvariantCulture) + "\n"), syncFolder: false);
            if (held) counter = next;
            changed = true;
        }
        if (clearJournal && (!held || !journalKnown || journal is not null))
        {
            var hadJournal = ownJournal || ReadJournal() is not null;
            if (hadJournal && (!ownJournal || summaryChanged || summary is null))
            {
                // Before the journal goes, in the same folder: the one folder sync below orders
                // the summary's rename before the journal's unlink (as it does the counter's).
                EnsureFolder(folder);
                WriteSummary(ownJournal && summary is not null ? summary : VolumeSummary.Of(List()), syncFolder: false);
                changed = true;
            }
            changed |= FileDescriptor.Unlink(JournalFile);
            Remember(null);
            ownJournal = false;
            summaryChanged = false;
        }
        if (changed) DurableFile.SyncFolder(folder);
    }

    /// <summary>
    /// The new name's link, then the record, then the old link's removal, each durable before
    /// the next: after a power cut at any point <see cref="Find"/> trusts exactly one of the two
    /// names (the one the record carries), so the volume has its old name or its new one.
    /// </summary>
    public VolumeRecord Rename(VolumeRecord record, string newName)
    {
        var renamed = record with { Name = newName };
        EnsureFolder(Names);
        if (Link(newName, record.ThinId)) DurableFile.SyncFolder(Names);
        Save(renamed);
        if (FileDescriptor.Unlink(Path.Combine(Names, record.Name)))
        {
            DurableFile.SyncFolder(Names);
        }
        return renamed;
    }

    public bool NameTaken(string name) => Find(name) is not null;

    /// <summary>Points the name at the id (a new link renamed over the old one); false when it already did. The caller syncs the folder.</summary>
    private bool Link(string name, uint id)
    {
        var link = Path.Combine(Names, name);
        var target = id.ToString(CultureInfo.InvariantCulture);
        if (FileDescriptor.ReadLink(link) == target)
        {
            return false;
        }
        var temporary = Path.Combine(Names, $".{name}.{Environment.ProcessId}.tmp");
        if (!FileDescriptor.TrySymlink(target, temporary))
        {
            // Left by a killed command of this pid's predecessor: replace it.
            FileDescriptor.Unlink(temporary);
            FileDescriptor.TrySymlink(target, temporary);
        }
        FileDescriptor.Rename(temporary, link);
        return true;
    }

    /// <summary>
    /// The next <paramref name="count"/> thin ids from <paramref name="from"/> (the counter when
    /// not given), skipping ids that have a record or that <paramref name="taken"/> reports, and
    /// the counter after them. Nothing is written: the transaction's journal carries the counter.
    /// </summary>
    public (IReadOnlyList<uint> Ids, uint Next) ReserveIds(int count, uint? from = null, Func<uint, bool>? taken = null)
    {
        var next = from ?? NextId;
        var ids = new List<uint>(count);
        for (var tries = 0u; ids.Count < count && tries <= Kernel.ThinId.Max; tries++)
        {
            var id = next;
            next = next >= Kernel.ThinId.Max ? 0 : next + 1;
            if (!File.Exists(RecordFile(id)) && taken?.Invoke(id) != true)
            {
                ids.Add(id);
            }
        }
        if (ids.Count < count)
        {
            throw new DmPowerShellException(ErrorIds.ThinIdsExhausted, ErrorKind.InvalidState, $"Pool '{Pool}' has no free thin device id left (24 bits).", Pool);
        }
        return (ids, next);
    }

    /// <summary>The counter file alone.</summary>
    private uint Counter
    {
        get
        {
            if (held && counter is { } known) return known;
            var read = DurableFile.ReadIfExists(CounterFile) is { } bytes
                && uint.TryParse(System.Text.Encoding.ASCII.GetString(bytes).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var next) ? next : 0;
            if (held) counter = read;
            return read;
        }
    }

    /// <summary>
    /// The counter: every id under it was handed out by this module; none at or over it was. An
    /// unfinished transaction's journal may hold it ahead of the file.
    /// </summary>
    public uint NextId => Math.Max(Counter, ReadJournal()?.NextId ?? 0);

    /// <summary>Moves the counter past <paramref name="id"/> (an id the pool turned out to hold, an adopted one).</summary>
    public void SkipId(uint id) => Apply(Array.Empty<VolumeRecord>(), Array.Empty<VolumeRecord>(), id >= Kernel.ThinId.Max ? 0 : id + 1);

    public PoolJournal? ReadJournal()
    {
        if (held && journalKnown) return journal;
        var read = DurableFile.ReadIfExists(JournalFile) is { } bytes ? JsonSerializer.Deserialize<PoolJournal>(bytes, PoolRegistry.Json)?.Upgraded() : null;
        Remember(read);
        return read;
    }

    public void WriteJournal(PoolJournal journal)
    {
        if (!ownJournal)
        {
            // The records as they stand before the change; null when they must be counted at its end.
            summary = TrustedSummary();
            summaryChanged = false;
            ownJournal = true;
        }
        EnsureFolder(folder);
        DurableFile.Write(JournalFile, JsonSerializer.SerializeToUtf8Bytes(journal, PoolRegistry.Json));
        Remember(journal);
    }

    public void ClearJournal()
    {
        DurableFile.Delete(JournalFile);
        Remember(null);
        ownJournal = false;
    }

    private void Remember(PoolJournal? current)
    {
        journalKnown = held;
        journal = held ? current : null;
    }

    private string Pending => Path.Combine(folder, "pending");

    /// <summary>Deletions waiting for a busy device to close (deferred removal): one empty file per thin id.</summary>
    public IReadOnlyList<uint> PendingDeletions() =>
        Directory.Exists(Pending)
            ? Directory.EnumerateFiles(Pending).Select(Path.GetFileName)
                .Select(n => uint.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? (uint?)id : null)
                .OfType<uint>().OrderBy(i => i).ToList()
            : Array.Empty<uint>();

    public bool IsPendingDeletion(uint id) => File.Exists(Path.Combine(Pending, id.ToString(CultureInfo.InvariantCulture)));

    public void AddPendingDeletion(uint id)
    {
        DurableFile.CreateFolder(Pending);
        DurableFile.Write(Path.Combine(Pending, id.ToString(CultureInfo.InvariantCulture)), ReadOnlySpan<byte>.Empty);
    }

    public void RemovePendingDeletion(uint id) => DurableFile.Delete(Path.Combine(Pending, id.ToString(CultureInfo.InvariantCulture)));
}
