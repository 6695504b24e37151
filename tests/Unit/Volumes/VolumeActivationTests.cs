using DmPowerShell.Tests.Unit.Transactions;
using DmPowerShell.Volumes;

namespace DmPowerShell.Tests.Unit.Volumes;

/// <summary>Bringing a pool's recorded volumes back (Enable-ThinPool, the pools unit at boot), against the recording fake.</summary>
[Collection(nameof(DurableFileSyncs))]
public sealed class VolumeActivationTests : IDisposable
{
    private readonly FakePool fake = new();

    public void Dispose() => fake.Dispose();

    [Fact]
    public void A_volume_the_kernel_refuses_is_reported_and_the_others_still_come_up()
    {
        // The power-cut replay in direct mode: the registry, behind the metadata, records an
        // active volume whose thin id a later command deleted; the boot stopped at it.
        foreach (var name in new[] { "a", "b", "c" }) fake.Volumes.Create("web", name, 1L << 20, null, activate: true, SilentHost.Instance);
        foreach (var name in new[] { "web-a", "web-b", "web-c" }) fake.Dm.Remove(name);
        fake.Dm.Refuse.Add("web-b");
        var host = new RecordingHost(allow: true);

        fake.Volumes.ActivateRecorded(fake.Pool, host);

        Assert.True(fake.Dm.Exists("web-a"));
        Assert.True(fake.Dm.Exists("web-c"));
        Assert.False(fake.Dm.Exists("web-b"));
        var warning = Assert.Single(host.Warnings);
        Assert.Contains("'b'", warning);
        Assert.Contains("Test-ThinPool", warning);
        // The record is left as it was: Test-ThinPool and Repair-ThinPool decide, not the boot.
        Assert.False(fake.Volumes.Get("web", "b").Active);
        Assert.True(new DmPowerShell.Registry.VolumeStore(fake.Registry, "web").Find("b")!.Active);
    }
}
