using DmPowerShell.Tests.Unit.Transactions;
using DmPowerShell.Volumes;

namespace DmPowerShell.Tests.Unit.Volumes;

/// <summary>Restore-ThinVolume's plan and records (against the recording fake; the kernel's side is the guest lane's).</summary>
[Collection(nameof(DurableFileSyncs))]
public sealed class VolumeRestoreTests : IDisposable
{
    private readonly FakePool fake = new();
    private readonly VolumeService volumes;

    public VolumeRestoreTests()
    {
        volumes = fake.Volumes;
        volumes.Create("web", "base", 1L << 20, null, activate: true, SilentHost.Instance);
        volumes.Snapshot("web", "base", new[] { "s1" }, activate: false, readOnly: false, SilentHost.Instance);
    }

    public void Dispose() => fake.Dispose();

    [Fact]
    public void WhatIf_shows_the_steps_that_run_and_changes_nothing()
    {
        var host = new RecordingHost(allow: false);
        Assert.Null(volumes.Restore("web", "base", "s1", discard: false, keepAs: null, host));
        var plan = Assert.Single(host.Plans);
        var steps = plan.Split(Environment.NewLine);
        Assert.Contains(steps, s => s.Contains("remove device /dev/mapper/web-base"));
        Assert.Contains(steps, s => s.Contains("create_snap 2 1"));
        Assert.Contains(steps, s => s.Contains("write the records of 'base', 'base.before-restore'"));
        Assert.True(Array.FindIndex(steps, s => s.Contains("remove device")) < Array.FindIndex(steps, s => s.Contains("create_snap")));
        Assert.Equal(new[] { "base", "s1" }, volumes.List("web").Select(v => v.Name).OrderBy(n => n));
    }

    [Fact]
    public void The_volume_becomes_a_new_snapshot_of_the_snapshot_and_its_old_id_is_kept()
    {
        var restored = volumes.Restore("web", "base", "s1", discard: false, keepAs: null, SilentHost.Instance)!;
        Assert.Equal(("base", 2u, "s1", true), (restored.Name, restored.ThinId, restored.Origin, restored.Active));
        var kept = volumes.List("web").Single(v => v.Name == "base.before-restore");
        Assert.Equal((0u, false), (kept.ThinId, kept.Active));
        Assert.Contains(fake.Dm.Calls, c => c.Contains("create_snap 2 1"));
        Assert.DoesNotContain(fake.Dm.Calls, c => c.Contains("delete"));

        // Again, to the same snapshot: the name of the kept content moves on, s1 stays.
        volumes.Restore("web", "base", "s1", discard: false, keepAs: null, SilentHost.Instance);
        Assert.Equal(new[] { "base", "base.before-restore", "base.before-restore-2", "s1" }, volumes.List("web").Select(v => v.Name).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void Discard_deletes_the_old_thin_id()
    {
        volumes.Restore("web", "base", "s1", discard: true, keepAs: null, SilentHost.Instance);
        Assert.Contains(fake.Dm.Calls, c => c.Contains("delete 0"));
        Assert.Equal(new[] { "base", "s1" }, volumes.List("web").Select(v => v.Name).OrderBy(n => n));
    }

    [Fact]
    public void A_busy_volume_is_refused_and_left_as_it_was()
    {
        fake.Dm.Busy.Add("web-base");
        var error = Assert.Throws<DmPowerShellException>(() => volumes.Restore("web", "base", "s1", discard: false, keepAs: null, SilentHost.Instance));
        Assert.Equal(ErrorIds.DeviceInUse, error.ErrorId);
        Assert.True(fake.Dm.Exists("web-base"));
        Assert.Equal(new[] { "base", "s1" }, volumes.List("web").Select(v => v.Name).OrderBy(n => n));
        Assert.True(volumes.List("web").Single(v => v.Name == "base").Active);
    }

    [Fact]
    public void An_unrelated_volume_is_not_a_snapshot_to_restore_from()
    {
        volumes.Create("web", "other", 1L << 20, null, activate: false, SilentHost.Instance);
        var error = Assert.Throws<DmPowerShellException>(() => volumes.Restore("web", "base", "other", discard: false, keepAs: null, SilentHost.Instance));
        Assert.Equal(ErrorIds.SnapshotNotRelated, error.ErrorId);
        Assert.Equal(ErrorIds.SnapshotNotRelated, Assert.Throws<DmPowerShellException>(() => volumes.Restore("web", "base", "base", false, null, SilentHost.Instance)).ErrorId);
    }
}
