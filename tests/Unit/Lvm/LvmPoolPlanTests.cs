using DmPowerShell.Lvm;
using Xunit;

namespace DmPowerShell.Tests.Unit.Lvm;

public sealed class LvmPoolPlanTests
{
    private static LvmPoolPlan Guide() => new()
    {
        VolumeGroup = "docker",
        LogicalVolume = "thinpool",
        NewPhysicalVolumes = new[] { "/dev/xvdf" },
        ProfileFolder = "/etc/lvm/profile",
    };

    [Fact]
    public void The_guide_s_steps_as_argument_lists()
    {
        var commands = Guide().Build().Select(c => c.ToString()).ToList();
        Assert.Equal(new[]
        {
            "pvcreate --yes /dev/xvdf",
            "vgcreate docker /dev/xvdf",
            "lvcreate --yes --wipesignatures y -n thinpool docker -l 95%VG",
            "lvcreate --yes --wipesignatures y -n thinpoolmeta docker -l 1%VG",
            "lvconvert --yes --zero n -c 512k --discards passdown --thinpool docker/thinpool --poolmetadata docker/thinpoolmeta",
        }, commands);
        Assert.Equal(new[] { "lvchange --metadataprofile docker-thinpool docker/thinpool" }, Guide().Finish().Select(c => c.ToString()));
        Assert.Equal("/etc/lvm/profile/docker-thinpool.profile", Guide().ProfilePath);
        Assert.Contains("thin_pool_autoextend_threshold=80", Guide().ProfileText, StringComparison.Ordinal);
        Assert.Contains("thin_pool_autoextend_percent=20", Guide().ProfileText, StringComparison.Ordinal);
    }

    [Fact]
    public void An_existing_group_is_extended_sizes_are_exact_and_full_pools_error()
    {
        var plan = Guide() with { VolumeGroupExists = true, DataSize = 10L << 30, MetadataSize = 3L << 20, ErrorWhenFull = true };
        var commands = plan.Build().Select(c => c.ToString()).ToList();
        Assert.Contains("vgextend docker /dev/xvdf", commands);
        Assert.DoesNotContain(commands, c => c.StartsWith("vgcreate", StringComparison.Ordinal));
        Assert.Contains("lvcreate --yes --wipesignatures y -n thinpool docker -L 10485760k", commands);
        Assert.Contains("lvcreate --yes --wipesignatures y -n thinpoolmeta docker -L 3072k", commands);
        Assert.Contains("lvchange --errorwhenfull y docker/thinpool", plan.Finish().Select(c => c.ToString()));
    }

    [Fact]
    public void Resize_extends_the_group_then_the_pool_as_LVM_wants()
    {
        var commands = LvmPoolPlan.Resize("docker", "thinpool", new[] { "/dev/xvdg" }, 20L << 30, 4L << 30).Select(c => c.ToString());
        Assert.Equal(new[]
        {
            "pvcreate --yes /dev/xvdg",
            "vgextend docker /dev/xvdg",
            "lvextend -L 20971520k docker/thinpool",
            "lvextend --poolmetadatasize 4194304k docker/thinpool",
        }, commands);
    }

    [Fact]
    public void Names_follow_LVM_s_rules_and_device_naming()
    {
        Assert.Equal("my--vg-thin--pool", DmPowerShell.Registry.Naming.LvmDeviceName("my-vg", "thin-pool"));
        Assert.Equal("docker-thinpool-tpool", LvmNames.PoolTargetName("docker", "thinpool"));
        Assert.True(LvmNames.IsValid("docker_vg.1+"));
        Assert.False(LvmNames.IsValid("-docker"));
        Assert.False(LvmNames.IsValid("a b"));
        Assert.False(LvmNames.IsValid("a;rm -rf"));
        Assert.Equal("lvcreate -n 'a b'", new LvmCommand("lvcreate", new[] { "-n", "a b" }).ToString());
    }
}
