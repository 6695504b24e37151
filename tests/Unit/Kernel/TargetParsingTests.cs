using DmPowerShell.Interop;
using DmPowerShell.Kernel;

namespace DmPowerShell.Tests.Unit.Kernel;

public sealed class TargetParsingTests
{
    [Fact]
    public void Thin_pool_table_from_the_guide_round_trips()
    {
        // `dmsetup table docker-8:1-123141-pool` in the guide.
        var table = ThinPoolTable.Parse("7:1 7:0 128 32768 1 skip_block_zeroing");
        Assert.Equal(new DeviceNumber(7, 1), table.MetadataDevice);
        Assert.Equal(new DeviceNumber(7, 0), table.DataDevice);
        Assert.Equal(128u, table.BlockSizeSectors);
        Assert.Equal(65536UL, table.BlockSizeBytes);
        Assert.Equal(32768UL, table.LowWaterMarkBlocks);
        Assert.True(table.SkipBlockZeroing);
        Assert.Equal("7:1 7:0 128 32768 1 skip_block_zeroing", table.ToParameters());
        Assert.Equal("0 419430400 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing", table.ToTarget(419430400).ToString());
    }

    [Fact]
    public void Thin_pool_table_writes_every_feature_and_none_when_default()
    {
        var plain = new ThinPoolTable { MetadataDevice = new DeviceNumber(7, 1), DataDevice = new DeviceNumber(7, 0), BlockSizeSectors = 1024, LowWaterMarkBlocks = 10 };
        Assert.Equal("7:1 7:0 1024 10", plain.ToParameters());
        var all = plain with
        {
            SkipBlockZeroing = true, DiscardMode = DiscardMode.NoPassdown, NoSpacePolicy = NoSpacePolicy.Error, ReadOnly = true,
        };
        Assert.Equal("7:1 7:0 1024 10 4 skip_block_zeroing no_discard_passdown read_only error_if_no_space", all.ToParameters());
        Assert.Equal(all, ThinPoolTable.Parse(all.ToParameters()));
        Assert.Equal(DiscardMode.Ignore, ThinPoolTable.Parse("7:1 7:0 128 0 1 ignore_discard").DiscardMode);
    }

    [Theory]
    [InlineData("7:1 7:0 128")]
    [InlineData("7:1 7:0 x 1")]
    [InlineData("7:1 7:0 128 1 2 skip_block_zeroing")]
    [InlineData("7:1 7:0 128 1 1 bogus")]
    public void Malformed_thin_pool_tables_are_refused(string parameters) =>
        Assert.Throws<FormatException>(() => ThinPoolTable.Parse(parameters));

    [Theory]
    [InlineData(128UL, null)]
    [InlineData(1024UL, null)]
    [InlineData(2097152UL, null)]
    [InlineData(64UL, "between")]
    [InlineData(192UL, "multiple")]
    [InlineData(4194304UL, "between")]
    public void Block_sizes_follow_the_kernel_limits(ulong sectors, string? problem)
    {
        var message = ThinPoolTable.CheckBlockSize(sectors);
        if (problem is null) Assert.Null(message);
        else Assert.Contains(problem, message);
    }

    [Fact]
    public void Pool_status_lines_from_the_guide_parse()
    {
        // `dmsetup status` in the guide's loop-lvm example (an older kernel: no trailing fields).
        var status = ThinPoolStatus.Parse("91 422/524288 18338/1638400 - rw discard_passdown queue_if_no_space -");
        Assert.Equal(TargetHealth.Ok, status.Health);
        Assert.Equal(91UL, status.TransactionId);
        Assert.Equal(422UL, status.UsedMetadataBlocks);
        Assert.Equal(524288UL, status.TotalMetadataBlocks);
        Assert.Equal(18338UL, status.UsedDataBlocks);
        Assert.Equal(1638400UL, status.TotalDataBlocks);
        Assert.Null(status.HeldMetadataRoot);
        Assert.Equal(PoolMode.ReadWrite, status.Mode);
        Assert.Equal(DiscardMode.Passdown, status.DiscardMode);
        Assert.Equal(NoSpacePolicy.Queue, status.NoSpacePolicy);
        Assert.False(status.NeedsCheck);
        Assert.Null(status.MetadataLowWatermark);

        // The direct-lvm example stops even earlier.
        var shorter = ThinPoolStatus.Parse("51593 6270/1048576 701943/753600 - rw no_discard_passdown queue_if_no_space");
        Assert.Equal(DiscardMode.NoPassdown, shorter.DiscardMode);
        Assert.Null(shorter.NeedsCheck);
    }

    [Fact]
    public void Current_kernel_status_line_with_every_field_parses()
    {
        var status = ThinPoolStatus.Parse("3 90/2048 16/4096 57 out_of_data_space ignore_discard error_if_no_space needs_check 512");
        Assert.Equal(57UL, status.HeldMetadataRoot);
        Assert.Equal(PoolMode.OutOfDataSpace, status.Mode);
        Assert.Equal(DiscardMode.Ignore, status.DiscardMode);
        Assert.Equal(NoSpacePolicy.Error, status.NoSpacePolicy);
        Assert.True(status.NeedsCheck);
        Assert.Equal(512UL, status.MetadataLowWatermark);
        Assert.Equal(PoolMode.ReadOnly, ThinPoolStatus.Parse("0 1/2 3/4 - ro discard_passdown queue_if_no_space - 10").Mode);
    }

    [Theory]
    [InlineData("Fail", TargetHealth.Fail)]
    [InlineData("Error", TargetHealth.Error)]
    public void Failed_pools_give_a_status_that_says_so(string line, TargetHealth health) =>
        Assert.Equal(health, ThinPoolStatus.Parse(line).Health);

    [Theory]
    [InlineData("")]
    [InlineData("1 2/3")]
    [InlineData("1 2-3 4/5 - rw")]
    [InlineData("1 2/3 4/5 - sideways")]
    public void Malformed_pool_status_lines_are_refused(string line) =>
        Assert.Throws<FormatException>(() => ThinPoolStatus.Parse(line));

    [Fact]
    public void Thin_status_and_table_parse()
    {
        var status = ThinDeviceStatus.Parse("2048 4095");
        Assert.Equal(2048UL * 512, status.MappedBytes);
        Assert.Equal(4095UL, status.HighestMappedSector);
        Assert.Null(ThinDeviceStatus.Parse("0 -").HighestMappedSector);
        Assert.Equal(TargetHealth.Unavailable, ThinDeviceStatus.Parse("-").Health);
        Assert.Equal(TargetHealth.Fail, ThinDeviceStatus.Parse("Fail").Health);

        var table = ThinTable.Parse("253:2 16777215");
        Assert.Equal(ThinId.Max, table.DeviceId.Value);
        Assert.Equal("253:2 16777215", table.ToParameters());
        Assert.Equal("253:2 3 7:5", new ThinTable("253:2", new ThinId(3), "7:5").ToParameters());
        Assert.Throws<FormatException>(() => ThinTable.Parse("253:2 16777216"));
    }

    [Fact]
    public void Pool_messages_are_the_kernel_words()
    {
        Assert.Equal("create_thin 0", PoolMessage.CreateThin(new ThinId(0)).Text);
        Assert.Equal("create_snap 5 1", PoolMessage.CreateSnapshot(new ThinId(5), new ThinId(1)).Text);
        Assert.Equal("delete 5", PoolMessage.Delete(new ThinId(5)).Text);
        Assert.Equal("set_transaction_id 4 5", PoolMessage.SetTransactionId(4, 5).Text);
        Assert.Equal("reserve_metadata_snap", PoolMessage.ReserveMetadataSnapshot().Text);
        Assert.Equal("release_metadata_snap", PoolMessage.ReleaseMetadataSnapshot().Text);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThinId(ThinId.Max + 1));
    }

    [Fact]
    public void Table_lines_and_device_numbers_parse()
    {
        var line = DmTarget.Parse("0 209715200 thin-pool 7:1 7:0 128 32768 1 skip_block_zeroing");
        Assert.Equal(209715200UL, line.LengthSectors);
        Assert.Equal("thin-pool", line.TargetType);
        Assert.Equal("7:1 7:0 128 32768 1 skip_block_zeroing", line.Parameters);
        Assert.Equal("0 2048 zero", DmTarget.Parse("0 2048 zero").ToString());
        Assert.Equal(new DeviceNumber(253, 2), DeviceNumber.Parse("253:2"));
        Assert.False(DeviceNumber.TryParse("253", out _));
        // glibc's makedev(259, 65536) and makedev(7, 1)
        Assert.Equal(new DeviceNumber(259, 65536), DeviceNumber.FromDevT(0x0000_0000_1001_0300UL));
        Assert.Equal(new DeviceNumber(7, 1), DeviceNumber.FromDevT(0x701UL));
    }
}
