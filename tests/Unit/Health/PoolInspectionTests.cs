using DmPowerShell.Health;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using Xunit;

namespace DmPowerShell.Tests.Unit.Health;

public sealed class PoolInspectionTests
{
    private const string Dump = """
        <superblock uuid="" time="2" transaction="5" version="2" data_block_size="128" nr_data_blocks="16384">
          <device dev_id="1" mapped_blocks="10" transaction="0" creation_time="0" snap_time="1">
            <range_mapping origin_begin="0" data_begin="0" length="8" time="0"/>
            <single_mapping origin_block="300" data_block="9" time="1"/>
          </device>
          <device dev_id="2" mapped_blocks="0" transaction="1" creation_time="1" snap_time="1">
          </device>
          <device dev_id="7" mapped_blocks="3" transaction="4" creation_time="2" snap_time="2">
          </device>
        </superblock>
        """;

    private static PoolRecord Pool() => new()
    {
        Name = "web", Id = "abc", State = RecordState.Ready, DataPath = "/d", MetadataPath = "/m", BlockSize = 65536, MinimumFreeSpacePercent = 10,
    };

    private const ulong GiBSectors = (1UL << 30) / 512;

    private static VolumeRecord Volume(string name, uint id, bool active = true) => new() { Name = name, ThinId = new ThinId(id), Size = 1 << 30, Active = active };

    private static ThinPoolStatus Status(string text = "5 100/1000 200/16384 - rw discard_passdown queue_if_no_space - 1024") => ThinPoolStatus.Parse(text);

    [Fact]
    public void Thin_dump_xml_gives_the_transaction_and_the_devices()
    {
        var metadata = PoolMetadata.ParseXml(Dump);
        Assert.Equal(5UL, metadata.Transaction);
        Assert.Equal(128UL, metadata.DataBlockSectors);
        Assert.Equal(new uint[] { 1, 2, 7 }, metadata.Devices.Select(d => d.Id));
        Assert.Equal(10UL, metadata.Devices[0].MappedBlocks);
        Assert.Equal(300UL, PoolHealthService.HighestMappedBlock(Dump));
        Assert.Throws<FormatException>(() => PoolMetadata.ParseXml("<nothing/>"));
    }

    [Fact]
    public void Agreeing_views_have_no_problem()
    {
        var views = new PoolViews
        {
            Pool = Pool(), Active = true, Status = Status(),
            Records = new[] { Volume("base", 1), Volume("layer1", 2), Volume("ctr", 7, active: false) },
            LiveDevices = new[] { new LiveThinDevice("web-base", "DMPS-abc-1", 1, "base", GiBSectors), new LiveThinDevice("web-layer1", "DMPS-abc-2", 2, "layer1", GiBSectors) },
            Metadata = PoolMetadata.ParseXml(Dump),
        };
        Assert.Empty(PoolInspection.Compare(views));
        Assert.Empty(PoolInspection.Compare(views with { Summary = VolumeSummary.Of(views.Records) }));
    }

    [Fact]
    public void A_summary_that_disagrees_with_the_records_is_a_problem_with_a_repair()
    {
        var records = new[] { Volume("base", 1), Volume("layer1", 2) };
        var views = new PoolViews { Pool = Pool(), Records = records, Summary = VolumeSummary.Of(records.Take(1)) };
        var problem = Assert.Single(PoolInspection.Compare(views), p => p.Kind == ProblemKind.StaleSummary);
        Assert.True(problem.Repairable);
        Assert.Contains("says 1 volumes", problem.Description);
    }

    [Fact]
    public void Each_disagreement_is_named_with_its_repair()
    {
        var views = new PoolViews
        {
            Pool = Pool(), Active = true,
            Status = Status("5 950/1000 16000/16384 - out_of_data_space discard_passdown error_if_no_space needs_check 1024"),
            Records = new[] { Volume("base", 1, active: false), Volume("ghost", 9) },
            LiveDevices = new[] { new LiveThinDevice("web-base", "DMPS-abc-1", 1, "base", 100), new LiveThinDevice("web-lost", "DMPS-abc-7", 7, "lost", 100), new LiveThinDevice("web-dead", "DMPS-abc-12", 12, "dead", 100) },
            Metadata = PoolMetadata.ParseXml(Dump),
        };
        var problems = PoolInspection.Compare(views);
        Assert.Contains(problems, p => p.Kind == ProblemKind.NeedsCheck && p.Repairable);
        Assert.Contains(problems, p => p.Kind == ProblemKind.OutOfDataSpace);
        Assert.Contains(problems, p => p.Kind == ProblemKind.LowDataSpace);
        Assert.Contains(problems, p => p.Kind == ProblemKind.LowMetadataSpace);
        Assert.Contains(problems, p => p.Kind == ProblemKind.UnrecordedThinId && p.ThinId == 2 && p.Name == "recovered-2");
        Assert.Contains(problems, p => p.Kind == ProblemKind.UnrecordedThinId && p.ThinId == 7 && p.Name == "lost");
        Assert.Contains(problems, p => p.Kind == ProblemKind.MissingThinId && p.Name == "ghost");
        Assert.Contains(problems, p => p.Kind == ProblemKind.UnrecordedDevice && p.Name == "web-dead");
        Assert.Contains(problems, p => p.Kind == ProblemKind.StaleActiveState && p.Name == "base");
        Assert.Contains(problems, p => p.Kind == ProblemKind.SizeMismatch && p.Name == "base" && p.Description.Contains("50 KiB", StringComparison.Ordinal));
    }

    [Fact]
    public void Ids_in_a_journal_or_pending_deletion_are_not_disagreements()
    {
        var views = new PoolViews
        {
            Pool = Pool(), Active = true, Status = Status(),
            Records = new[] { Volume("base", 1, active: false) },
            PendingDeletions = new uint[] { 7 },
            Journal = new PoolJournal { Operation = PoolJournal.Create, FromTransaction = 4, Records = new[] { Volume("new", 2) } },
            Metadata = PoolMetadata.ParseXml(Dump),
        };
        var problems = PoolInspection.Compare(views);
        Assert.Equal(new[] { ProblemKind.UnfinishedTransaction }, problems.Select(p => p.Kind));
    }

    [Theory]
    [InlineData("my-pool", "my--pool-base", "base")]
    [InlineData("my-pool", "my--pool-a--b", "a-b")]
    [InlineData("web", "web-x-y", null)]
    [InlineData("web", "other-base", null)]
    public void Volume_names_come_back_from_device_names(string pool, string device, string? volume) =>
        Assert.Equal(volume, Naming.VolumeNameFromDevice(pool, device));

    [Fact]
    public void Thin_ids_come_back_from_uuids()
    {
        Assert.Equal(12u, Naming.ThinIdFromUuid("abc", "DMPS-abc-12"));
        Assert.Null(Naming.ThinIdFromUuid("abc", "DMPS-abc-pool"));
        Assert.Null(Naming.ThinIdFromUuid("abc", "LVM-xyz"));
    }

    [Fact]
    public void An_inactive_pool_flagged_needs_check_and_an_interrupted_repair_are_reported()
    {
        var views = new PoolViews { Pool = Pool(), Active = false, Records = Array.Empty<VolumeRecord>(), NeedsCheckAtRest = true, InterruptedRepair = new[] { "base" } };
        var problems = PoolInspection.Compare(views);
        Assert.Contains(problems, p => p.Kind == ProblemKind.NeedsCheck && p.Repairable);
        Assert.Contains(problems, p => p.Kind == ProblemKind.UnfinishedRepair && p.Description.Contains("'base'", StringComparison.Ordinal));
    }
}
