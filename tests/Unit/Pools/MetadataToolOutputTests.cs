using DmPowerShell.Pools;

namespace DmPowerShell.Tests.Unit.Pools;

/// <summary>thin_ls and thin_delta output (thin-provisioning-tools 0.9, captured from metadata made with thin_restore) read into types.</summary>
public sealed class MetadataToolOutputTests
{
    [Fact]
    public void Thin_ls_gives_mapped_exclusive_and_shared_bytes_per_device()
    {
        var usage = ThinDeviceUsage.Parse("1 196608 65536 131072 \n2 262144 131072 131072 \n", exclusive: true);
        Assert.Equal(new ThinDeviceUsage(1, 196608, 65536, 131072), usage[0]);
        Assert.Equal(262144, usage[1].MappedBytes);
        var mapped = Assert.Single(ThinDeviceUsage.Parse("7 0 \n", exclusive: false));
        Assert.Equal(new ThinDeviceUsage(7, 0, null, null), mapped);
        Assert.Throws<FormatException>(() => ThinDeviceUsage.Parse("DEV MAPPED\n", exclusive: false));
        Assert.Throws<FormatException>(() => ThinDeviceUsage.Parse("1 2 3\n", exclusive: false));
    }

    [Fact]
    public void Thin_delta_gives_the_differing_ranges_in_bytes_and_leaves_out_the_same_ones()
    {
        const string xml = """
            <superblock uuid="" time="1" transaction="2" data_block_size="128" nr_data_blocks="1000">
              <diff left="1" right="2">
                <same begin="0" length="2"/>
                <different begin="5" length="1"/>
                <left_only begin="7" length="1"/>
                <right_only begin="9" length="3"/>
                <right_only begin="12" length="1"/>
              </diff>
            </superblock>
            """;
        var ranges = ThinDelta.Parse(xml);
        const long block = 64 * 1024;
        Assert.Equal(new[]
        {
            new ThinDeltaRange(DifferenceKind.Different, 5 * block, block),
            new ThinDeltaRange(DifferenceKind.LeftOnly, 7 * block, block),
            new ThinDeltaRange(DifferenceKind.RightOnly, 9 * block, 4 * block),
        }, ranges);
        Assert.Empty(ThinDelta.Parse("""<superblock data_block_size="128"><diff left="1" right="1"/></superblock>"""));
        Assert.Throws<FormatException>(() => ThinDelta.Parse("<nothing/>"));
    }
}
