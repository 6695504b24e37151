using DmPowerShell.Kernel;
using DmPowerShell.Registry;

namespace DmPowerShell.Tests.Unit.Registry;

/// <summary>The pool's summary (count, provisioned bytes, base volume) on a real file system: kept by every change, never trusted stale.</summary>
public sealed class VolumeSummaryTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("dmps-unit-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private VolumeStore Store()
    {
        var registry = new PoolRegistry(Path.Combine(root, "state"));
        registry.EnsureWritableRoot();
        var store = new VolumeStore(registry, "web");
        store.Hold();
        return store;
    }

    private static VolumeRecord Volume(string name, uint id, long size, uint? origin = null, string? fileSystem = null) => new()
    {
        Name = name, ThinId = new ThinId(id), Size = size, OriginId = origin is { } o ? new ThinId(o) : null, FileSystem = fileSystem,
    };

    private static PoolJournal Journal(params VolumeRecord[] created) => new() { Operation = PoolJournal.Create, Created = created, NextId = 100 };

    private string SummaryFile(VolumeStore store) => Path.Combine(store.Folder, "summary.json");

    [Fact]
    public void Summary_of_records_counts_sizes_and_finds_the_lowest_base()
    {
        var summary = VolumeSummary.Of(new[] { Volume("snap", 3, 10, origin: 2), Volume("b", 2, 100, fileSystem: "ext4"), Volume("c", 5, 7) });
        Assert.Equal(3, summary.Count);
        Assert.Equal(117, summary.ProvisionedBytes);
        Assert.Equal(2u, summary.BaseThinId);
        Assert.Equal(100, summary.BaseSize);
        Assert.Equal("ext4", summary.BaseFileSystem);
    }

    [Fact]
    public void Removing_the_base_asks_for_a_recount_and_growing_it_does_not()
    {
        var summary = VolumeSummary.Of(new[] { Volume("b", 2, 100), Volume("c", 5, 7) });
        Assert.Null(summary.With(Volume("b", 2, 100), null));
        Assert.Equal(200, summary.With(Volume("b", 2, 100), Volume("b", 2, 200))!.BaseSize);
        Assert.Equal(1u, summary.With(null, Volume("a", 1, 1))!.BaseThinId);
        Assert.Equal(2u, summary.With(null, Volume("s", 1, 1, origin: 2))!.BaseThinId);
    }

    [Fact]
    public void A_transaction_writes_the_summary_when_it_clears_its_journal()
    {
        var store = Store();
        store.Apply(new[] { Volume("base", 0, 100, fileSystem: "xfs") }, Array.Empty<VolumeRecord>());
        Assert.Equal(1, store.TrustedSummary()!.Count);

        var snaps = Enumerable.Range(1, 3).Select(i => Volume($"s{i}", (uint)i, 100, origin: 0)).ToArray();
        store.WriteJournal(Journal(snaps));
        store.Apply(snaps, Array.Empty<VolumeRecord>());
        // Records written, journal present: a reader does not trust the summary yet.
        Assert.Null(store.TrustedSummary());
        Assert.Equal(4, store.Summary().Count);
        store.Finish(100);
        Assert.Equal(VolumeSummary.Of(store.List()), store.TrustedSummary());
        Assert.Equal(400, store.TrustedSummary()!.ProvisionedBytes);
    }

    [Fact]
    public void A_recovery_counts_every_record_whatever_the_summary_said()
    {
        var store = Store();
        store.Apply(new[] { Volume("base", 0, 100) }, Array.Empty<VolumeRecord>());
        var created = Volume("s", 1, 100, origin: 0);
        store.WriteJournal(Journal(created));
        store.Apply(new[] { created }, Array.Empty<VolumeRecord>());
        // A crash here: the summary on disk still says one volume. A new command recovers.
        var recovering = Store();
        Assert.Contains("\"Count\": 1", File.ReadAllText(SummaryFile(recovering)));
        var journal = recovering.ReadJournal()!;
        recovering.Apply(journal.Created, Array.Empty<VolumeRecord>());
        recovering.Finish(journal.NextId);
        Assert.Equal(2, recovering.TrustedSummary()!.Count);
    }

    [Fact]
    public void A_change_outside_a_journal_leaves_no_stale_summary_behind()
    {
        var store = Store();
        store.Apply(new[] { Volume("base", 0, 100), Volume("other", 1, 50) }, Array.Empty<VolumeRecord>());
        Assert.True(File.Exists(SummaryFile(store)));
        // Activation changes nothing the summary holds: the file is left alone.
        var before = File.GetLastWriteTimeUtc(SummaryFile(store));
        store.Save(store.FindById(1)! with { Active = true });
        Assert.Equal(before, File.GetLastWriteTimeUtc(SummaryFile(store)));
        // A resize does: the new summary is written after the record.
        store.Save(store.FindById(1)! with { Size = 70 });
        Assert.Equal(170, store.TrustedSummary()!.ProvisionedBytes);
        store.Delete(store.FindById(0)!);
        Assert.Equal(VolumeSummary.Of(store.List()), store.TrustedSummary());
        Assert.Equal(1u, store.TrustedSummary()!.BaseThinId);
    }

    [Fact]
    public void A_missing_or_torn_summary_is_counted_and_rebuilt_by_the_next_change()
    {
        var store = Store();
        store.Apply(new[] { Volume("base", 0, 100) }, Array.Empty<VolumeRecord>());
        File.WriteAllText(SummaryFile(store), "{ torn");
        Assert.Null(store.TrustedSummary());
        Assert.Equal(1, store.Summary().Count);
        store.Save(Volume("b", 1, 5));
        Assert.Equal(2, store.TrustedSummary()!.Count);
        File.Delete(SummaryFile(store));
        store.WriteJournal(Journal(Volume("c", 2, 5)));
        store.Apply(new[] { Volume("c", 2, 5) }, Array.Empty<VolumeRecord>());
        store.Finish(100);
        Assert.Equal(3, store.TrustedSummary()!.Count);
    }

    [Fact]
    public void Replacing_every_record_at_once_counts_each_id_once()
    {
        var store = Store();
        store.Apply(new[] { Volume("a", 0, 100), Volume("b", 1, 100) }, Array.Empty<VolumeRecord>());
        store.Apply(new[] { Volume("a", 0, 10), Volume("c", 2, 10) }, store.List());
        Assert.Equal(VolumeSummary.Of(store.List()), store.TrustedSummary());
        Assert.Equal(2, store.TrustedSummary()!.Count);
    }
}
