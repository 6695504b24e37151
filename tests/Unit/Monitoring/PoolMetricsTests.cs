using DmPowerShell.Kernel;
using DmPowerShell.Monitoring;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using Xunit;

namespace DmPowerShell.Tests.Unit.Monitoring;

public sealed class PoolMetricsTests
{
    private static PoolStatus Status(string device, string? name, PoolManager manager, PoolMode? mode = PoolMode.ReadWrite, TargetHealth health = TargetHealth.Ok) => new()
    {
        PoolName = device,
        DeviceName = device,
        Name = name,
        Manager = manager,
        LibraryVersion = "1.02.185",
        Mode = mode,
        Health = health,
        DataSpaceUsed = 3L << 20,
        DataSpaceTotal = 100L << 30,
        MetadataSpaceUsed = 1L << 20,
        MetadataSpaceTotal = 2L << 30,
        TransactionId = 7,
        ThinVolumeCount = 2,
        ProvisionedSize = 20L << 30,
        Watched = true,
        AutoextendEnabled = true,
        NeedsCheck = false,
    };

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Every_family_has_help_and_type_and_a_series_per_pool()
    {
        var text = PoolMetrics.Render(
            new[] { new PoolMetrics.ActivePool(Status("web", "web", PoolManager.DmPowerShell), new AutoextendCounts { Data = 3, Metadata = 1 }) },
            Array.Empty<PoolRecord>());
        var lines = Lines(text);
        Assert.Contains("dmpowershell_pool_data_size_bytes{pool=\"web\",device=\"web\",manager=\"DmPowerShell\"} 107374182400", lines);
        Assert.Contains("dmpowershell_pool_data_used_bytes{pool=\"web\",device=\"web\",manager=\"DmPowerShell\"} 3145728", lines);
        Assert.Contains("dmpowershell_pool_transaction_id{pool=\"web\",device=\"web\",manager=\"DmPowerShell\"} 7", lines);
        Assert.Contains("dmpowershell_pool_mode{pool=\"web\",device=\"web\",manager=\"DmPowerShell\",mode=\"read_write\"} 1", lines);
        Assert.Contains("dmpowershell_pool_mode{pool=\"web\",device=\"web\",manager=\"DmPowerShell\",mode=\"out_of_data_space\"} 0", lines);
        Assert.Contains("dmpowershell_pool_autoextend_events_total{pool=\"web\",device=\"web\",manager=\"DmPowerShell\",space=\"data\"} 3", lines);
        Assert.Contains("# TYPE dmpowershell_pool_autoextend_events_total counter", lines);
        var families = lines.Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(families.Count, lines.Count(l => l.StartsWith("# HELP ", StringComparison.Ordinal)));
        Assert.Equal(families.Count, families.Distinct().Count());
        // Every sample belongs to the family declared last before it (the format's rule).
        string? family = null;
        foreach (var line in lines)
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal)) family = line.Split(' ')[2];
            else if (!line.StartsWith('#')) Assert.StartsWith(family + "{", line);
        }
    }

    [Fact]
    public void A_foreign_pool_has_no_counts_and_an_inactive_pool_only_its_active_gauge()
    {
        var inactive = new PoolRecord { Name = "idle", Id = "x", DataPath = "/d", MetadataPath = "/m" };
        var text = PoolMetrics.Render(
            new[] { new PoolMetrics.ActivePool(Status("vg-pool-tpool", null, PoolManager.Lvm, mode: null, health: TargetHealth.Fail), null) },
            new[] { inactive });
        var lines = Lines(text);
        Assert.Contains("dmpowershell_pool_active{pool=\"idle\",device=\"idle\",manager=\"DmPowerShell\"} 0", lines);
        Assert.Contains("dmpowershell_pool_active{pool=\"vg-pool-tpool\",device=\"vg-pool-tpool\",manager=\"Lvm\"} 1", lines);
        Assert.Contains("dmpowershell_pool_mode{pool=\"vg-pool-tpool\",device=\"vg-pool-tpool\",manager=\"Lvm\",mode=\"failed\"} 1", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("dmpowershell_pool_autoextend_events_total{", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("pool=\"idle\"") && !l.StartsWith("dmpowershell_pool_active{", StringComparison.Ordinal));
    }

    [Fact]
    public void Label_values_escape_quote_backslash_and_line_feed()
    {
        var text = PoolMetrics.Render(new[] { new PoolMetrics.ActivePool(Status("a\"b\\c\nd", null, PoolManager.Other), null) }, Array.Empty<PoolRecord>());
        Assert.Contains("pool=\"a\\\"b\\\\c\\nd\"", text);
    }
}
