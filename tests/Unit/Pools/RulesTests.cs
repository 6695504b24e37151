using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Tests.Unit.Pools;

public sealed class RulesTests
{
    [Theory]
    [InlineData("10G", 10L << 30)]
    [InlineData("10GB", 10L << 30)]
    [InlineData("10GiB", 10L << 30)]
    [InlineData("10gib", 10L << 30)]
    [InlineData("512M", 512L << 20)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("1.5K", 1536L)]
    [InlineData("4096", 4096L)]
    [InlineData("8s", 4096L)]
    [InlineData(" 2 TB ", 2L << 40)]
    public void Sizes_use_binary_units(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("ten")]
    [InlineData("10X")]
    [InlineData("1.3B")]
    [InlineData("99999999999P")]
    public void Nonsense_sizes_are_refused(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(65536L, "64 KiB")]
    [InlineData(1536L << 20, "1.5 GiB")]
    [InlineData(100L << 30, "100 GiB")]
    public void Sizes_format_in_binary_units(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes));

    [Theory]
    [InlineData("web", null)]
    [InlineData("docker-thinpool", null)]
    [InlineData("a_b.c+d", null)]
    [InlineData("", "empty")]
    [InlineData("a/b", "'/'")]
    [InlineData("a b", "U+0020")]
    [InlineData("a\tb", "U+0009")]
    [InlineData("-x", "starts with")]
    [InlineData(".x", "starts with")]
    [InlineData("é", "'é'")]
    public void Names_are_checked(string name, string? problem)
    {
        var message = Naming.Check(name, "pool");
        if (problem is null) Assert.Null(message);
        else Assert.Contains(problem, message);
    }

    [Fact]
    public void Device_names_double_inner_dashes_as_LVM_does()
    {
        Assert.Equal("docker--thinpool", Naming.PoolDeviceName("docker-thinpool"));
        Assert.Equal("my--pool-a--b", Naming.VolumeDeviceName("my-pool", "a-b"));
        // Pool "a" volume "b-c" and pool "a-b" volume "c" must not collide.
        Assert.NotEqual(Naming.VolumeDeviceName("a", "b-c"), Naming.VolumeDeviceName("a-b", "c"));
        Assert.Equal("DMPS-abc-pool", Naming.PoolUuid("abc"));
        Assert.Equal("DMPS-abc-7", Naming.VolumeUuid("abc", 7));
    }

    [Fact]
    public void Pool_settings_are_validated_before_anything_is_made()
    {
        var spec = new PoolSpec { Name = "p" };
        Assert.Empty(PoolRules.Validate(spec, 100L << 30, 2L << 30));
        Assert.Equal("InvalidSize", Assert.Throws<DmPowerShellException>(() => PoolRules.Validate(spec, 0, 2L << 30)).ErrorId);
        Assert.Equal("InvalidSize", Assert.Throws<DmPowerShellException>(() => PoolRules.Validate(spec, (1L << 30) + 512, 2L << 30)).ErrorId);
        Assert.Equal("MetadataSizeOutOfRange", Assert.Throws<DmPowerShellException>(() => PoolRules.Validate(spec, 1L << 30, 1L << 20)).ErrorId);
        Assert.Equal("MetadataSizeOutOfRange", Assert.Throws<DmPowerShellException>(() => PoolRules.Validate(spec, 1L << 30, (33_423_360L + 8) * 512)).ErrorId);
        PoolRules.CheckMetadataSize(33_423_360L * 512); // the kernel's own maximum is allowed
        Assert.Equal("InvalidBlockSize", Assert.Throws<DmPowerShellException>(() => PoolRules.Validate(spec with { BlockSize = 96 << 10 }, 1L << 30, 2L << 30)).ErrorId);
        Assert.Equal("InvalidSetting", Assert.Throws<DmPowerShellException>(() => PoolRules.Validate(spec with { MinimumFreeSpacePercent = 100 }, 1L << 30, 2L << 30)).ErrorId);
        var warning = Assert.Single(PoolRules.Validate(spec, 10L << 40, 2L << 30)); // 10 TiB wants 7.5 GiB
        Assert.Contains("guideline", warning);
    }

    [Fact]
    public void Metadata_guideline_and_low_water_mark_follow_the_kernel_documentation()
    {
        Assert.Equal(75L << 20, PoolRules.MetadataGuideline(100L << 30, 64 << 10)); // 48 x 100 GiB / 64 KiB
        Assert.Equal(2L << 20, PoolRules.MetadataGuideline(1L << 20, 64 << 10));    // never under 2 MiB
        Assert.Equal(PoolSpec.MaxMetadataSize, PoolRules.MetadataGuideline(100L << 40, 64 << 10)); // 75 GiB: capped at the kernel's limit
        // 100 TiB in 64 KiB blocks needs 75 GiB of metadata: no size fits; a larger block does.
        Assert.Contains("-BlockSize 512 KiB would fit", Assert.Single(PoolRules.Validate(new PoolSpec { Name = "big" }, 100L << 40, PoolSpec.MaxMetadataSize)));
        Assert.Empty(PoolRules.Validate(new PoolSpec { Name = "big", BlockSize = 512 << 10 }, 100L << 40, PoolSpec.MaxMetadataSize));
        Assert.Equal(1639UL, PoolRules.DefaultLowWaterMark(16384, 10));
        Assert.Equal(0UL, PoolRules.DefaultLowWaterMark(16384, 0));
    }
}
