using DmPowerShell.Lvm;

namespace DmPowerShell.Tests.Unit.Lvm;

/// <summary>lvs -o seg_monitor as LVM 2.03.16 (Debian 12) and 2.03.31 (Debian 13) print it.</summary>
public sealed class LvmToolsTests
{
    [Theory]
    [InlineData("  monitored\n", "monitored")]
    [InlineData("  not monitored\n", "not monitored")]
    [InlineData("  not enabled\n", "not enabled")]   // 2.03.31 with activation/monitoring = 0
    [InlineData("  \n", "not enabled")]              // 2.03.16 with activation/monitoring = 0
    public void Monitoring_reads_alike_on_both_versions(string output, string state) =>
        Assert.Equal(state, LvmTools.MonitoringState(output));
}
