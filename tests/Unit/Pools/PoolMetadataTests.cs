using DmPowerShell.Pools;

namespace DmPowerShell.Tests.Unit.Pools;

/// <summary>thin_dump's XML as 0.9 and 1.x write it, and the geometry an export must carry for thin_restore 1.x.</summary>
public sealed class PoolMetadataTests
{
    // thin_dump 0.9.0 writes flags="0" and ends with a newline; 1.1.0 leaves flags out and the newline too.
    private const string Dump09 = "<superblock uuid=\"\" time=\"1\" transaction=\"3\" flags=\"0\" version=\"2\" data_block_size=\"128\" nr_data_blocks=\"0\">\n" +
        "  <device dev_id=\"1\" mapped_blocks=\"1\" transaction=\"0\" creation_time=\"0\" snap_time=\"1\">\n" +
        "    <single_mapping origin_block=\"10\" data_block=\"5\" time=\"0\"/>\n  </device>\n</superblock>\n";
    private const string Dump11 = "<superblock uuid=\"\" time=\"1\" transaction=\"3\" version=\"2\" data_block_size=\"128\" nr_data_blocks=\"1024\">\n" +
        "  <device dev_id=\"1\" mapped_blocks=\"1\" transaction=\"0\" creation_time=\"0\" snap_time=\"1\">\n" +
        "    <single_mapping origin_block=\"10\" data_block=\"5\" time=\"0\"/>\n  </device>\n</superblock>";

    [Theory]
    [InlineData(Dump09, 0UL)]
    [InlineData(Dump11, 1024UL)]
    public void Both_versions_dumps_parse_alike(string xml, ulong blocks)
    {
        var metadata = PoolMetadata.ParseXml(xml);
        Assert.Equal(3UL, metadata.Transaction);
        Assert.Equal(128UL, metadata.DataBlockSectors);
        Assert.Equal(blocks, metadata.DataBlocks);
        Assert.Single(metadata.Devices);
    }

    [Fact]
    public void A_zero_data_block_count_is_replaced_in_the_superblock_only()
    {
        var patched = PoolMetadata.WithDataBlocks(Dump09, 16384);
        Assert.Equal(16384UL, PoolMetadata.ParseXml(patched).DataBlocks);
        Assert.Equal(Dump09.Replace("nr_data_blocks=\"0\"", "nr_data_blocks=\"16384\""), patched);
    }

    [Fact]
    public void A_dump_that_carries_its_geometry_is_left_as_it_is() =>
        Assert.Same(Dump11, PoolMetadata.WithDataBlocks(Dump11, 99));

    [Fact]
    public void Output_without_a_superblock_is_refused() =>
        Assert.Throws<FormatException>(() => PoolMetadata.WithDataBlocks("<device dev_id=\"1\"/>", 1));
}
