using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using Xunit;

namespace DmPowerShell.Tests.Unit.Pools;

public sealed class PoolPoliciesTests
{
    private const long MiB = 1L << 20;

    private static PoolRecord Pool() => new()
    {
        Name = "web", Id = "abc", State = RecordState.Ready, DataPath = "/d", MetadataPath = "/m",
        DataSize = 1024 * MiB, MetadataSize = 16 * MiB, BlockSize = 64 * 1024,
    };

    [Fact]
    public void Only_the_settings_given_change_and_the_plan_names_each()
    {
        var before = Pool();
        var after = PoolPolicies.Apply(before, new PoolPolicyChange { DataThresholdPercent = 80, DataMaximumSize = 4096 * MiB, NoSpacePolicy = NoSpacePolicy.Error });
        Assert.Equal(80, after.DataAutoextend.ThresholdPercent);
        Assert.True(after.DataAutoextend.Enabled);
        Assert.False(after.MetadataAutoextend.Enabled);
        Assert.Equal(NoSpacePolicy.Error, after.NoSpacePolicy);
        Assert.Equal(before.MinimumFreeSpacePercent, after.MinimumFreeSpacePercent);
        var plan = PoolPolicies.Describe(before, after);
        Assert.Contains("data autoextend: off -> at 80% used, +20%, up to 4 GiB", plan, StringComparison.Ordinal);
        Assert.Contains("no-space behaviour: Queue -> Error", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("metadata", plan, StringComparison.Ordinal);
        Assert.Equal("", PoolPolicies.Describe(after, after));
    }

    [Fact]
    public void A_step_given_as_a_size_replaces_the_percent_and_the_other_way_round()
    {
        var bySize = PoolPolicies.Apply(Pool(), new PoolPolicyChange { DataThresholdPercent = 70, DataStepBytes = 256 * MiB });
        Assert.Equal(256 * MiB, bySize.DataAutoextend.StepBytes);
        Assert.Equal(1280 * MiB, bySize.DataAutoextend.NextSize(1024 * MiB, 64 * 1024));
        var byPercent = PoolPolicies.Apply(bySize, new PoolPolicyChange { DataStepPercent = 50 });
        Assert.Null(byPercent.DataAutoextend.StepBytes);
        Assert.Equal(1536 * MiB, byPercent.DataAutoextend.NextSize(1024 * MiB, 64 * 1024));
        var capped = PoolPolicies.Apply(byPercent, new PoolPolicyChange { DataMaximumSize = 1100 * MiB });
        Assert.Equal(1100 * MiB, capped.DataAutoextend.NextSize(1024 * MiB, 64 * 1024));
    }

    [Theory]
    [InlineData(49, null, null, null, ErrorIds.InvalidSetting)]
    [InlineData(101, null, null, null, ErrorIds.InvalidSetting)]
    [InlineData(80, 0, null, null, ErrorIds.InvalidSetting)]
    [InlineData(80, null, 1000L, null, ErrorIds.InvalidSize)]
    [InlineData(80, null, null, 512L * 1024 * 1024, ErrorIds.InvalidSize)]
    public void Bad_settings_are_refused_with_a_typed_error(int threshold, int? percent, long? step, long? maximum, string id)
    {
        var e = Assert.Throws<DmPowerShellException>(() => PoolPolicies.Apply(Pool(),
            new PoolPolicyChange { DataThresholdPercent = threshold, DataStepPercent = percent, DataStepBytes = step, DataMaximumSize = maximum }));
        Assert.Equal(id, e.ErrorId);
    }

    [Fact]
    public void Metadata_never_grows_past_the_kernel_limit()
    {
        var e = Assert.Throws<DmPowerShellException>(() => PoolPolicies.Apply(Pool(), new PoolPolicyChange { MetadataMaximumSize = 32L << 30 }));
        Assert.Equal(ErrorIds.InvalidSize, e.ErrorId);
        Assert.Throws<DmPowerShellException>(() => PoolPolicies.Apply(Pool(), new PoolPolicyChange { MinimumFreeSpacePercent = 100 }));
    }
}
