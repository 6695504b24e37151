using DmPowerShell.Tests.Unit.Transactions;
using DmPowerShell.Volumes;

namespace DmPowerShell.Tests.Unit.Volumes;

/// <summary>Queries by exact name read the name index, not every record (against the recording fake).</summary>
[Collection(nameof(DurableFileSyncs))]
public sealed class VolumeQueryTests : IDisposable
{
    private readonly FakePool fake = new();
    private readonly VolumeService volumes;

    public VolumeQueryTests()
    {
        volumes = fake.Volumes;
        foreach (var name in new[] { "a", "b", "c" }) volumes.Create("web", name, 1L << 20, null, activate: true, SilentHost.Instance);
    }

    public void Dispose() => fake.Dispose();

    [Fact]
    public void Exact_names_find_their_volumes_in_id_order_once_each()
    {
        var found = volumes.GetExact("web", new[] { "c", "a", "c" })!;
        Assert.Equal(new[] { "a", "c" }, found.Select(v => v.Name));
        Assert.True(found.All(v => v.Active));
    }

    [Fact]
    public void A_name_without_an_exact_match_leaves_the_query_to_the_listing()
    {
        // The listing matches as PowerShell does (ignoring case); the index is exact.
        Assert.Null(volumes.GetExact("web", new[] { "A" }));
        Assert.Null(volumes.GetExact("web", new[] { "a", "nope" }));
        Assert.Equal("a", Assert.Single(volumes.List("web", n => string.Equals(n, "A", StringComparison.OrdinalIgnoreCase))).Name);
    }
}
