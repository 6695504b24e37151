using DmPowerShell.Kernel;
using DmPowerShell.Registry;

namespace DmPowerShell.Tests.Unit.Registry;

/// <summary>The registry on a real file system (no kernel needed): records, index, ids, locks.</summary>
public sealed class RegistryTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("dmps-unit-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private PoolRegistry Registry() => new(Path.Combine(root, "state"));

    private static PoolRecord Pool(string name) => new()
    {
        Name = name, Id = Guid.NewGuid().ToString("N"), State = RecordState.Ready, DataPath = "/d", MetadataPath = "/m",
        DataSize = 1L << 30, MetadataSize = 16L << 20, BlockSize = 65536,
    };

    [Fact]
    public void Pool_records_round_trip_with_private_modes()
    {
        var registry = Registry();
        registry.EnsureWritableRoot();
        var record = Pool("web");
        registry.SavePool(record);
        Assert.Equal(record, registry.FindPool("web"));
        Assert.Equal("web", Assert.Single(registry.ListPools()).Name);
        var file = Path.Combine(registry.PoolFolder("web"), "pool.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(registry.PoolFolder("web")));
        Assert.Empty(Directory.GetFiles(registry.PoolFolder("web"), "*.tmp"));
        registry.DeletePool("web");
        Assert.Null(registry.FindPool("web"));
    }

    [Fact]
    public void An_unfinished_creation_is_not_listed_as_a_pool()
    {
        var registry = Registry();
        registry.EnsureWritableRoot();
        registry.SavePool(Pool("ready"));
        registry.SavePool(Pool("half") with { State = RecordState.Creating });
        Assert.Equal(new[] { "ready" }, registry.ListPools().Select(p => p.Name));
        Assert.Equal(new[] { "half", "ready" }, registry.ListPools(includeUnfinished: true).Select(p => p.Name));
        Assert.Equal(RecordState.Creating, registry.FindPool("half")!.State);
    }

    [Fact]
    public void A_corrupt_record_is_a_typed_error_not_a_crash()
    {
        var registry = Registry();
        registry.EnsureWritableRoot();
        Directory.CreateDirectory(registry.PoolFolder("bad"));
        File.WriteAllText(Path.Combine(registry.PoolFolder("bad"), "pool.json"), "{ not json");
        Assert.Equal("RecordCorrupt", Assert.Throws<DmPowerShellException>(() => registry.FindPool("bad")).ErrorId);
    }

    [Fact]
    public void State_root_must_be_a_real_writable_folder()
    {
        var real = Directory.CreateDirectory(Path.Combine(root, "real")).FullName;
        var link = Path.Combine(root, "link");
        Directory.CreateSymbolicLink(link, real);
        Assert.Equal("StateRootInvalid", Assert.Throws<DmPowerShellException>(() => new PoolRegistry(link).EnsureWritableRoot()).ErrorId);
        Assert.Equal("StateRootInvalid", Assert.Throws<DmPowerShellException>(() => new PoolRegistry(Path.Combine(root, "no", "such")).EnsureWritableRoot()).ErrorId);
        File.WriteAllText(Path.Combine(root, "file"), "");
        Assert.Equal("StateRootInvalid", Assert.Throws<DmPowerShellException>(() => new PoolRegistry(Path.Combine(root, "file")).EnsureWritableRoot()).ErrorId);
        new PoolRegistry(Path.Combine(root, "fresh")).EnsureWritableRoot(); // a missing root inside an existing folder is made
        Assert.True(Directory.Exists(Path.Combine(root, "fresh", "pools")));
    }

    [Fact]
    public void Volumes_are_found_by_name_renamed_and_deleted_through_the_index()
    {
        var registry = Registry();
        registry.EnsureWritableRoot();
        var store = new VolumeStore(registry, "web");
        var id = store.ReserveIds(1).Ids[0];
        store.Save(new VolumeRecord { Name = "base", ThinId = new ThinId(id), Size = 1 << 30 });
        Assert.Equal(id, store.Find("base")!.ThinId);
        Assert.True(store.NameTaken("base"));
        var renamed = store.Rename(store.Find("base")!, "golden");
        Assert.Null(store.Find("base"));
        Assert.Equal("golden", store.Find("golden")!.Name);
        Assert.Equal((renamed.Name, renamed.ThinId, renamed.Size), (store.FindById(id)!.Name, store.FindById(id)!.ThinId, store.FindById(id)!.Size));
        store.Delete(renamed);
        Assert.Null(store.Find("golden"));
        Assert.Empty(store.List());
    }

    [Fact]
    public void A_rename_cut_short_leaves_the_volume_under_exactly_one_name()
    {
        // The states a power cut can leave (PowerCut.Tests found the second): both links exist,
        // and the record carries either name. Only the name the record carries is trusted.
        var registry = Registry();
        registry.EnsureWritableRoot();
        var store = new VolumeStore(registry, "web");
        var id = store.ReserveIds(1).Ids[0];
        var record = new VolumeRecord { Name = "s1", ThinId = new ThinId(id), Size = 1 << 20 };
        store.Save(record);
        var names = Path.Combine(registry.PoolFolder("web"), "names");
        File.CreateSymbolicLink(Path.Combine(names, "s1r"), id.ToString());
        Assert.Equal("s1", store.Find("s1")!.Name);
        Assert.Null(store.Find("s1r"));
        Assert.False(store.NameTaken("s1r"));

        store.Save(record with { Name = "s1r" });
        Assert.Null(store.Find("s1"));
        Assert.Equal("s1r", store.Find("s1r")!.Name);
        // The stale name is free again: a new volume takes it over.
        var other = store.ReserveIds(1, id + 1).Ids[0];
        store.Save(new VolumeRecord { Name = "s1", ThinId = new ThinId(other), Size = 1 << 20 });
        Assert.Equal(other, store.Find("s1")!.ThinId);
        Assert.Equal(id, store.Find("s1r")!.ThinId);
    }

    [Fact]
    public void Thin_ids_only_move_forward_and_skip_taken_ones()
    {
        var registry = Registry();
        registry.EnsureWritableRoot();
        var store = new VolumeStore(registry, "web");
        // Reserving writes nothing: the counter moves when a transaction finishes.
        Assert.Equal((new uint[] { 0, 1 }, 2u), Reserve(store, 2), Ids);
        Assert.Equal(0u, store.NextId);
        store.Finish(2);
        Assert.Equal(2u, store.NextId);
        // An id freed by a removal is not handed out again soon: the counter moves on.
        store.Save(new VolumeRecord { Name = "x", ThinId = new ThinId(3) });
        Assert.Equal((new uint[] { 2, 4 }, 5u), Reserve(store, 2), Ids);
        Assert.Equal(new uint[] { 2, 4, 6 }, store.ReserveIds(3, taken: id => id == 5).Ids);
        store.SkipId(41);
        Assert.Equal(42u, store.ReserveIds(1).Ids[0]);
        // An unfinished transaction's journal holds the counter ahead of its file.
        store.WriteJournal(new PoolJournal { Operation = "create", NextId = 50 });
        Assert.Equal(50u, store.NextId);
    }

    [Fact]
    public void A_held_store_reads_counter_and_journal_once_and_keeps_its_own_writes_durable()
    {
        var registry = Registry();
        registry.EnsureWritableRoot();
        registry.SavePool(Pool("web"));
        var store = new VolumeStore(registry, "web");
        store.Hold();
        Assert.Null(store.ReadJournal());
        Assert.Equal(0u, store.NextId);
        // Under the pool's lock nobody else writes these: a held store does not read them again.
        File.WriteAllText(store.JournalPath, "{ not read }");
        File.WriteAllText(Path.Combine(store.Folder, "next-id"), "7\n");
        Assert.Null(store.ReadJournal());
        Assert.Equal(0u, store.NextId);
        File.Delete(store.JournalPath);

        store.WriteJournal(new PoolJournal { Operation = "create", NextId = 9 });
        Assert.Equal(9u, store.NextId);
        store.Save(new VolumeRecord { Name = "a", ThinId = new ThinId(8) });
        store.Finish(9);
        Assert.Null(store.ReadJournal());
        Assert.False(File.Exists(store.JournalPath));
        // What it wrote is on disk for the next command's store.
        var next = new VolumeStore(registry, "web");
        Assert.Equal(9u, next.NextId);
        Assert.Equal(new ThinId(8), next.Find("a")!.ThinId);
        Assert.Null(next.ReadJournal());
    }

    private static readonly IEqualityComparer<(uint[] Ids, uint Next)> Ids =
        EqualityComparer<(uint[] Ids, uint Next)>.Create((a, b) => a.Ids.SequenceEqual(b.Ids) && a.Next == b.Next);

    private static (uint[] Ids, uint Next) Reserve(VolumeStore store, int count)
    {
        var (ids, next) = store.ReserveIds(count);
        return (ids.ToArray(), next);
    }

    [Fact]
    public void The_journal_survives_until_cleared()
    {
        var registry = Registry();
        registry.EnsureWritableRoot();
        var store = new VolumeStore(registry, "web");
        Assert.Null(store.ReadJournal());
        store.WriteJournal(new PoolJournal { Operation = PoolJournal.Create, FromTransaction = 4, Created = new[] { new VolumeRecord { Name = "a", ThinId = new ThinId(9) } } });
        var journal = store.ReadJournal()!;
        Assert.Equal(4UL, journal.FromTransaction);
        Assert.Equal(9u, Assert.Single(journal.Created).ThinId);
        store.ClearJournal();
        Assert.Null(store.ReadJournal());
    }

    [Fact]
    public void A_held_lock_times_out_naming_its_holder()
    {
        var registry = Registry();
        registry.LockTimeout = TimeSpan.FromMilliseconds(200);
        using var held = registry.LockPool("web");
        var timeout = Assert.Throws<LockTimeoutException>(() => registry.LockPool("web"));
        Assert.Contains($"process {Environment.ProcessId}", timeout.Message);
        Assert.Contains("pool 'web'", timeout.Message);
        held.Dispose();
        using var again = registry.LockPool("web");
    }

    [Fact]
    public void Thin_ids_stay_plain_numbers_in_the_records_and_earlier_records_read_as_they_were()
    {
        const string earlier = """{"Schema":1,"Name":"s","ThinId":7,"Size":1048576,"OriginId":3,"Lineage":[{"ThinId":3,"Name":"base"}],"Active":true}""";
        var record = System.Text.Json.JsonSerializer.Deserialize<VolumeRecord>(earlier, PoolRegistry.Json)!;

        Assert.Equal(new ThinId(7), record.ThinId);
        Assert.Equal(new ThinId(3), record.OriginId);
        Assert.Equal(new ThinId(3), record.Lineage.Single().ThinId);
        var written = System.Text.Json.JsonSerializer.Serialize(record, PoolRegistry.Json);
        Assert.Contains("\"ThinId\":7", written.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("\"OriginId\":3", written.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => System.Text.Json.JsonSerializer.Deserialize<VolumeRecord>(earlier.Replace("\"ThinId\":7", "\"ThinId\":16777216", StringComparison.Ordinal), PoolRegistry.Json));
    }

    [Fact]
    public void Volumes_are_listed_in_thin_id_order()
    {
        var registry = Registry();
        registry.EnsureWritableRoot();
        registry.SavePool(new PoolRecord { Name = "order", Id = "o", State = RecordState.Ready, DataPath = "/d", MetadataPath = "/m", BlockSize = 65536 });
        var store = new VolumeStore(registry, "order");
        foreach (var (name, id) in new[] { ("c", 12u), ("a", 3u), ("b", 7u) }) store.Save(new VolumeRecord { Name = name, ThinId = new ThinId(id) });

        Assert.Equal(new uint[] { 3, 7, 12 }, store.List().Select(r => r.ThinId.Value));
    }
}
