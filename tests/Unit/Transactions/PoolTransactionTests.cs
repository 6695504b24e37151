using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Transactions;
using DmPowerShell.Volumes;

namespace DmPowerShell.Tests.Unit.Transactions;

/// <summary>
/// The transaction protocol and its recovery, against a recording fake of device-mapper and a
/// real registry on the host's file system: the order of the steps, and what the next command
/// does from each state a killed one can leave. What the kernel does is the guest's to show.
/// </summary>
[Collection(nameof(DurableFileSyncs))]
public sealed class PoolTransactionTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("dmps-tx-").FullName;
    private readonly PoolRegistry registry;
    private readonly PoolRecord pool;
    private readonly RecordingDeviceMapper dm;
    private readonly VolumeService volumes;
    private readonly SilentHost host = new();

    public PoolTransactionTests()
    {
        registry = new PoolRegistry(Path.Combine(root, "state"));
        registry.EnsureWritableRoot();
        pool = new PoolRecord
        {
            Name = "web", Id = Guid.NewGuid().ToString("N"), State = RecordState.Ready, DataPath = "/d", MetadataPath = "/m",
            DataSize = 1L << 30, MetadataSize = 16L << 20, BlockSize = 65536,
        };
        registry.SavePool(pool);
        dm = new RecordingDeviceMapper(pool.DeviceName, pool.Uuid);
        volumes = new VolumeService(new PoolService(registry, dm));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private VolumeStore Store => new(registry, "web");

    private string Device(string volume) => Naming.VolumeDeviceName("web", volume);

    /// <summary>Calls from the first message on, with the device names shortened to the volume's.</summary>
    private List<string> Steps(int from = 0) => dm.Calls.Skip(from).Select(c => c.Replace(" web-", " ", StringComparison.Ordinal)).ToList();

    [Fact]
    public void A_creation_writes_its_journal_before_the_first_message_and_moves_the_transaction_id_after_it()
    {
        volumes.Create("web", "first", 1L << 20, null, activate: false, host); // makes the registry's folders
        var start = dm.Calls.Count;
        var journalAtFirstMessage = (PoolJournal?)null;
        var syncsAtFirstMessage = 0L;
        var syncs = DurableFile.Syncs;
        dm.Before = call =>
        {
            if (!call.StartsWith("message", StringComparison.Ordinal) || journalAtFirstMessage is not null) return;
            journalAtFirstMessage = Store.ReadJournal();
            syncsAtFirstMessage = DurableFile.Syncs - syncs;
        };

        var volume = volumes.Create("web", "base", 1L << 20, null, activate: true, host)!;

        // One durable write before the kernel is touched: the journal (its data, then its folder).
        Assert.Equal(2, syncsAtFirstMessage);
        // After the commit: the record's data, the volumes and names folders, the counter's and
        // the summary's data, and one sync of the pool's folder for them and the cleared journal.
        Assert.Equal(8, DurableFile.Syncs - syncs);

        Assert.Equal(new[] { "message create_thin 1", "message set_transaction_id 1 2", "create base" }, Steps(start));
        Assert.Equal("base", Assert.Single(journalAtFirstMessage!.Created).Name);
        Assert.Equal(2u, journalAtFirstMessage.NextId);
        Assert.True(volume.Active);
        Assert.Null(Store.ReadJournal());
        Assert.Equal(2u, Store.NextId);
        Assert.True(Store.Find("base")!.Active);
    }

    [Fact]
    public void Snapshots_of_an_active_origin_suspend_it_once_around_the_messages()
    {
        volumes.Create("web", "base", 1L << 20, null, activate: true, host);
        var start = dm.Calls.Count;

        volumes.Snapshot("web", "base", new[] { "s1", "s2" }, activate: false, readOnly: false, host);

        Assert.Equal(new[]
        {
            "suspend base", "message create_snap 1 0", "message create_snap 2 0", "message set_transaction_id 1 2", "resume base",
        }, Steps(start));
        Assert.Equal(new uint?[] { 0, 0 }, new uint?[] { Store.Find("s1")!.OriginId, Store.Find("s2")!.OriginId });
        Assert.Equal(3u, Store.NextId);
    }

    [Fact]
    public void A_removal_moves_the_transaction_id_before_it_deletes()
    {
        volumes.Create("web", "base", 1L << 20, null, activate: true, host);
        var start = dm.Calls.Count;

        volumes.Remove("web", "base", host);

        Assert.Equal(new[] { "remove base", "message set_transaction_id 1 2", "message delete 0" }, Steps(start));
        Assert.Null(Store.Find("base"));
        Assert.Empty(Store.List());
        Assert.Equal(1u, Store.NextId); // never handed out again
    }

    [Fact]
    public void A_busy_device_undoes_the_removal_and_the_volume_stays()
    {
        volumes.Create("web", "base", 1L << 20, null, activate: true, host);
        dm.Busy.Add(Device("base"));
        // Marked with a time no write gives it: a rewrite (a new file by rename) would lose it.
        var recordFile = Store.RecordPath(Store.Find("base")!.ThinId);
        var marked = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(recordFile, marked);

        var error = Assert.Throws<DmPowerShellException>(() => volumes.Remove("web", "base", host));

        Assert.Equal(ErrorIds.DeviceInUse, error.ErrorId);
        Assert.Null(Store.ReadJournal());
        Assert.Equal(marked, File.GetLastWriteTimeUtc(recordFile)); // refused, not rewritten
        Assert.True(Store.Find("base")!.Active);
        Assert.Equal(1ul, dm.TransactionId);
        Assert.Contains(0u, dm.ThinIds);
    }

    [Fact]
    public void A_thin_id_the_pool_holds_without_a_record_is_skipped_never_reused()
    {
        dm.ThinIds.Add(0);

        volumes.Create("web", "base", 1L << 20, null, activate: false, host);

        Assert.Equal(1u, Store.Find("base")!.ThinId);
        Assert.Equal(2u, Store.NextId);
        Assert.Contains(host.Warnings, w => w.Contains("thin id 0", StringComparison.Ordinal));
    }

    [Fact]
    public void The_WhatIf_plan_of_each_change_is_the_list_of_steps_that_run()
    {
        volumes.Create("web", "base", 1L << 20, null, activate: true, host);
        var changes = new (string Name, Action<IOperationHost> Run)[]
        {
            ("create", h => volumes.Create("web", "fresh", 1L << 20, null, activate: true, h)),
            ("snapshot", h => volumes.Snapshot("web", "base", new[] { "s1", "s2" }, activate: true, readOnly: false, h)),
            ("remove", h => volumes.Remove("web", "base", h)),
        };
        foreach (var (name, run) in changes)
        {
            var whatIf = new RecordingHost(allow: false);
            run(whatIf);
            var executed = new RecordingHost(allow: true);
            run(executed);

            var plan = Assert.Single(whatIf.Plans).Split(Environment.NewLine);
            Assert.Equal(plan, executed.Verbose);
            Assert.Contains(plan, line => line.Contains("set_transaction_id", StringComparison.Ordinal));
            Assert.DoesNotContain(plan, line => line.Contains('<', StringComparison.Ordinal)); // an active pool: every id and number is known
        }
    }

    [Fact]
    public void A_command_refused_because_the_pool_is_inactive_releases_the_pools_lock()
    {
        dm.Remove(pool.DeviceName);

        var error = Assert.Throws<DmPowerShellException>(() => volumes.Recover("web", host));

        Assert.Equal(ErrorIds.PoolInactive, error.ErrorId);
        using var again = registry.LockPool("web"); // would wait for a leaked lock, then time out
    }

    [Fact]
    public void WhatIf_changes_nothing()
    {
        volumes.Create("web", "base", 1L << 20, null, activate: true, host);
        var calls = dm.Calls.Count;
        var files = Directory.GetFileSystemEntries(registry.PoolFolder("web"), "*", SearchOption.AllDirectories).Order().ToList();

        volumes.Snapshot("web", "base", new[] { "s1" }, activate: true, readOnly: false, new RecordingHost(allow: false));
        volumes.Remove("web", "base", new RecordingHost(allow: false));
        volumes.Create("web", "other", 1L << 20, null, activate: true, new RecordingHost(allow: false));

        Assert.Equal(calls, dm.Calls.Count);
        Assert.Equal(files, Directory.GetFileSystemEntries(registry.PoolFolder("web"), "*", SearchOption.AllDirectories).Order().ToList());
        Assert.Equal(1u, Store.NextId);
    }

    private void LeaveJournal(PoolJournal journal) => Store.WriteJournal(journal);

    private static VolumeRecord Volume(string name, uint id) => new() { Name = name, ThinId = new ThinId(id), Size = 1L << 20 };

    [Fact]
    public void A_creation_killed_before_the_transaction_id_moved_is_rolled_back()
    {
        dm.ThinIds.Add(0); // create_thin was sent
        dm.Add(Device("base"), Naming.VolumeUuid(pool.Id, 0));
        LeaveJournal(new PoolJournal { Operation = "create", FromTransaction = 0, Created = new[] { Volume("base", 0) }, NextId = 1 });

        volumes.Recover("web", host);

        Assert.Equal(new[] { "remove base", "message delete 0", "commit" }, Steps());
        Assert.Empty(Store.List());
        Assert.Null(Store.ReadJournal());
        Assert.Equal(1u, Store.NextId);
        Assert.Contains(host.Warnings, w => w.StartsWith("Rolling back an interrupted create", StringComparison.Ordinal));
    }

    [Fact]
    public void A_creation_killed_after_the_transaction_id_moved_is_completed_with_its_live_state()
    {
        dm.ThinIds.Add(0);
        dm.TransactionId = 1;
        dm.Add(Device("base"), Naming.VolumeUuid(pool.Id, 0));
        LeaveJournal(new PoolJournal { Operation = "create", FromTransaction = 0, Created = new[] { Volume("base", 0) }, NextId = 1 });

        volumes.Recover("web", host);

        Assert.Equal(new[] { "commit" }, Steps());
        Assert.True(Store.Find("base")!.Active);
        Assert.Null(Store.ReadJournal());
        Assert.Equal(1u, Store.NextId);
    }

    [Fact]
    public void A_removal_killed_after_the_transaction_id_moved_is_completed()
    {
        Store.Save(Volume("base", 0));
        Store.SkipId(0);
        dm.ThinIds.Add(0);
        dm.TransactionId = 1;
        LeaveJournal(new PoolJournal { Operation = "remove", FromTransaction = 0, Deleted = new[] { Volume("base", 0) }, NextId = 1 });

        volumes.Recover("web", host);

        Assert.Equal(new[] { "message delete 0", "commit" }, Steps());
        Assert.Empty(dm.ThinIds);
        Assert.Null(Store.Find("base"));
    }

    [Fact]
    public void A_removal_killed_before_the_transaction_id_moved_keeps_the_volume_inactive_when_its_device_is_gone()
    {
        Store.Save(Volume("base", 0) with { Active = true });
        dm.ThinIds.Add(0);
        LeaveJournal(new PoolJournal { Operation = "remove", FromTransaction = 0, Deleted = new[] { Volume("base", 0) }, NextId = 1 });

        volumes.Recover("web", host);

        Assert.Contains(0u, dm.ThinIds);
        Assert.False(Store.Find("base")!.Active);
        Assert.Null(Store.ReadJournal());
    }

    [Fact]
    public void A_snapshot_killed_with_its_origin_suspended_resumes_the_origin_first()
    {
        dm.Add(Device("base"), Naming.VolumeUuid(pool.Id, 0), suspended: true);
        dm.ThinIds.UnionWith(new uint[] { 0, 1 });
        dm.TransactionId = 1;
        LeaveJournal(new PoolJournal
        {
            Operation = "snapshot", FromTransaction = 1, Created = new[] { Volume("s1", 1) }, NextId = 2, SuspendedDevice = Device("base"),
        });

        volumes.Recover("web", host);

        Assert.Equal("resume base", Steps()[0]);
        Assert.False(dm.IsSuspended(Device("base")));
        Assert.Empty(Store.List());
        Assert.DoesNotContain(1u, dm.ThinIds);
    }

    [Fact]
    public void A_transaction_id_moved_by_something_else_stops_recovery_and_keeps_the_journal()
    {
        dm.TransactionId = 5;
        LeaveJournal(new PoolJournal { Operation = "create", FromTransaction = 0, Created = new[] { Volume("base", 0) }, NextId = 1 });

        var error = Assert.Throws<DmPowerShellException>(() => volumes.Recover("web", host));

        Assert.Equal(ErrorIds.PoolUnhealthy, error.ErrorId);
        Assert.NotNull(Store.ReadJournal());
    }

    [Fact]
    public void A_journal_the_pool_moved_past_is_settled_by_the_metadata_s_thin_ids_when_repair_gives_them()
    {
        // The registry lost writes the metadata kept: a create it journalled, and four changes after.
        dm.TransactionId = 5;
        dm.ThinIds.UnionWith(new uint[] { 0, 3 });
        LeaveJournal(new PoolJournal
        {
            Operation = "create", FromTransaction = 0, Created = new[] { Volume("base", 0) with { Formatting = true, FileSystem = "ext4" } }, NextId = 1, Activate = true,
        });

        volumes.Recover("web", host, new HashSet<uint> { 0, 3 });

        Assert.DoesNotContain(Steps(), s => s.StartsWith("message", StringComparison.Ordinal));   // the pool is as the metadata says
        var settled = Store.Find("base")!;
        Assert.Equal(0u, settled.ThinId.Value);
        Assert.True(settled.Active);                              // brought up, as the create asked
        Assert.False(settled.Formatting);                         // its mkfs is not made again
        Assert.Null(Store.ReadJournal());
        Assert.Equal(1u, Store.NextId);
        Assert.Contains(host.Warnings, w => w.Contains("settling it by the thin ids", StringComparison.Ordinal));
    }

    [Fact]
    public void Activation_leaves_a_journal_the_pool_moved_past_to_repair_and_goes_on()
    {
        dm.TransactionId = 5;
        LeaveJournal(new PoolJournal { Operation = "create", FromTransaction = 0, Created = new[] { Volume("base", 0) }, NextId = 1 });

        using (var session = PoolSession.Open(new PoolService(registry, dm), "web", leaveJournalThePoolMovedPast: true))
        {
            session.Prepare(host);
        }

        Assert.NotNull(Store.ReadJournal());                      // Repair-ThinPool settles it
        Assert.Contains(host.Warnings, w => w.Contains("Repair-ThinPool 'web' settles the rest", StringComparison.Ordinal));
        Assert.DoesNotContain(Steps(), s => s.StartsWith("message", StringComparison.Ordinal));
    }

    [Fact]
    public void A_journal_the_pool_moved_past_forgets_a_deleted_volume_whose_id_is_gone_and_drops_a_create_that_never_happened()
    {
        dm.TransactionId = 9;
        Store.Save(Volume("old", 2));
        LeaveJournal(new PoolJournal
        {
            Operation = "restore", FromTransaction = 3, Created = new[] { Volume("new", 4) }, Deleted = new[] { Volume("old", 2) }, NextId = 5,
        });

        volumes.Recover("web", host, new HashSet<uint> { 7 });

        Assert.Null(Store.Find("old"));
        Assert.Null(Store.Find("new"));
        Assert.Null(Store.ReadJournal());
        Assert.Equal(5u, Store.NextId);
    }

    [Fact]
    public void A_change_without_messages_is_always_finished_and_moves_the_counter_past_adopted_ids()
    {
        LeaveJournal(new PoolJournal { Operation = "adoption", Saved = new[] { Volume("recovered-7", 7) }, NextId = 8 });

        volumes.Recover("web", host);

        Assert.Empty(Steps());
        Assert.Equal(7u, Store.Find("recovered-7")!.ThinId);
        Assert.Equal(8u, Store.NextId);
    }

    [Fact]
    public void A_journal_of_the_first_schema_is_read_in_todays_terms()
    {
        var folder = registry.PoolFolder("web");
        File.WriteAllText(Path.Combine(folder, "journal.json"),
            """{ "Operation": "create", "FromTransaction": 0, "Records": [ { "Name": "base", "ThinId": 3, "Size": 1048576 } ] }""");

        var journal = Store.ReadJournal()!;

        Assert.Equal("base", Assert.Single(journal.Created).Name);
        Assert.Empty(journal.Deleted);
        Assert.Equal(4u, journal.NextId);
    }

    [Fact]
    public void The_summary_stays_trusted_through_creations_bulk_snapshots_renames_and_removals()
    {
        volumes.Create("web", "origin", 1L << 20, null, activate: true, host);
        volumes.Snapshot("web", "origin", Enumerable.Range(1, 30).Select(i => $"s{i}").ToList(), activate: true, readOnly: false, host);
        volumes.Create("web", "c1", 2L << 20, null, activate: true, host);
        volumes.Disable("web", "s3", host);
        volumes.Rename("web", "s4", "renamed", host);
        volumes.Remove("web", "c1", host);
        volumes.Remove("web", "s5", host);
        var summary = Store.TrustedSummary();
        Assert.NotNull(summary);
        Assert.Equal(VolumeSummary.Of(Store.List()), summary);
        Assert.Equal(30, summary!.Count);
    }
}

/// <summary>Tests that count the registry's fsyncs (a process-wide counter) run alone.</summary>
[CollectionDefinition(nameof(DurableFileSyncs), DisableParallelization = true)]
public sealed class DurableFileSyncs
{
}
