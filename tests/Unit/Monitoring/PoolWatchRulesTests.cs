using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Monitoring;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using Xunit;

namespace DmPowerShell.Tests.Unit.Monitoring;

public sealed class PoolWatchRulesTests
{
    private const long MiB = 1L << 20;
    private const long Block = 64 * 1024;

    /// <summary>A pool of <paramref name="dataMiB"/> with <paramref name="usedPercent"/> of its data used.</summary>
    private static PoolObservation Seen(long dataMiB, int usedPercent, PoolMode mode = PoolMode.ReadWrite, int metadataUsedPercent = 10, long metadataMiB = 4, bool needsCheck = false)
    {
        var blocks = (ulong)(dataMiB * MiB / Block);
        var metaBlocks = (ulong)(metadataMiB * MiB / 4096);
        return new PoolObservation
        {
            Mode = mode,
            NeedsCheck = needsCheck,
            BlockSize = Block,
            TotalDataBlocks = blocks,
            UsedDataBlocks = blocks * (ulong)usedPercent / 100,
            TotalMetadataBlocks = metaBlocks,
            UsedMetadataBlocks = metaBlocks * (ulong)metadataUsedPercent / 100,
        };
    }

    private static readonly AutoextendPolicy At70By25 = new() { ThresholdPercent = 70, StepPercent = 25 };

    private static (List<ThinPoolEvent> Events, List<Extension> Steps) Evaluate(WatchState state, PoolObservation now, WatchPolicy policy) =>
        PoolWatchRules.Evaluate("web", "web", state, now, policy);

    [Fact]
    public void Below_the_threshold_nothing_happens()
    {
        var (events, steps) = Evaluate(new WatchState(), Seen(256, 50), new WatchPolicy { Data = At70By25, Extends = true });
        Assert.Empty(events);
        Assert.Empty(steps);
    }

    [Fact]
    public void At_the_threshold_one_event_and_one_step_of_the_policy()
    {
        var state = new WatchState();
        var policy = new WatchPolicy { Data = At70By25, Extends = true };
        var (events, steps) = Evaluate(state, Seen(256, 75), policy);
        var crossing = Assert.Single(events);
        Assert.Equal(PoolEventKind.DataThreshold, crossing.Kind);
        Assert.Equal(PoolSpace.Data, crossing.Space);
        Assert.Contains("extending", crossing.Message, StringComparison.Ordinal);
        Assert.Equal(new Extension(PoolSpace.Data, 256 * MiB, 320 * MiB), Assert.Single(steps));

        // Still above after the step: a further step, but the crossing is not reported twice.
        (events, steps) = Evaluate(state, Seen(320, 72), policy);
        Assert.Empty(events);
        Assert.Equal(400 * MiB, Assert.Single(steps).To);

        // Below, then above again: a new crossing.
        Evaluate(state, Seen(400, 50), policy);
        (events, _) = Evaluate(state, Seen(400, 90), policy);
        Assert.Equal(PoolEventKind.DataThreshold, Assert.Single(events).Kind);
    }

    [Fact]
    public void A_pool_out_of_data_space_is_extended_whatever_its_usage_says()
    {
        var state = new WatchState { Mode = PoolMode.ReadWrite };
        var (events, steps) = Evaluate(state, Seen(256, 100, PoolMode.OutOfDataSpace), new WatchPolicy { Data = At70By25, Extends = true });
        var change = Assert.Single(events, e => e.Kind == PoolEventKind.ModeChanged);
        Assert.Equal(PoolMode.ReadWrite, change.PreviousMode);
        Assert.Equal(PoolMode.OutOfDataSpace, change.Mode);
        Assert.Equal("mode rw -> out_of_data_space", change.Message);
        Assert.Single(steps);
    }

    [Fact]
    public void Steps_stop_at_the_maximum_and_the_limit_is_reported_once()
    {
        var state = new WatchState();
        var policy = new WatchPolicy { Data = At70By25 with { MaximumSize = 300 * MiB }, Extends = true };
        var (_, steps) = Evaluate(state, Seen(256, 80), policy);
        Assert.Equal(300 * MiB, Assert.Single(steps).To);
        var (events, none) = Evaluate(state, Seen(300, 80), policy);
        Assert.Empty(none);
        var limit = Assert.Single(events);
        Assert.Equal(PoolEventKind.LimitReached, limit.Kind);
        Assert.Contains("maximum 300 MiB", limit.Message, StringComparison.Ordinal);
        (events, _) = Evaluate(state, Seen(300, 85), policy);
        Assert.Empty(events);
    }

    [Fact]
    public void A_block_device_limits_the_steps_to_its_end_in_whole_blocks()
    {
        var policy = new WatchPolicy { Data = At70By25, Extends = true, DataLimit = 290 * MiB + 1000 };
        var (_, steps) = Evaluate(new WatchState(), Seen(256, 80), policy);
        Assert.Equal(290 * MiB, Assert.Single(steps).To);
        var (events, none) = Evaluate(new WatchState { DataAbove = true }, Seen(290, 80), policy);
        Assert.Empty(none);
        Assert.Contains("the end of its device", Assert.Single(events).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pools_the_module_does_not_own_are_reported_and_never_extended()
    {
        var policy = new WatchPolicy { Extends = false, ReportOnlyReason = "LVM manages this pool" };
        var (events, steps) = Evaluate(new WatchState(), Seen(256, 85, metadataUsedPercent: 90), policy);
        Assert.Empty(steps);
        Assert.Equal(new[] { PoolEventKind.DataThreshold, PoolEventKind.MetadataThreshold }, events.Select(e => e.Kind));
        Assert.All(events, e => Assert.EndsWith("LVM manages this pool", e.Message, StringComparison.Ordinal));
        Assert.All(events, e => Assert.False(e.Extends));
    }

    [Fact]
    public void With_autoextend_off_crossings_are_reported_at_80_percent()
    {
        var (events, steps) = Evaluate(new WatchState(), Seen(256, 79), new WatchPolicy { Extends = true });
        Assert.Empty(events);
        (events, steps) = Evaluate(new WatchState(), Seen(256, 81), new WatchPolicy { Extends = true });
        Assert.Contains("autoextend is off", Assert.Single(events).Message, StringComparison.Ordinal);
        Assert.Empty(steps);
    }

    [Fact]
    public void Metadata_grows_in_metadata_blocks_up_to_the_kernel_limit()
    {
        var policy = new WatchPolicy { Metadata = new AutoextendPolicy { ThresholdPercent = 60, StepPercent = 100 }, Extends = true };
        var (events, steps) = Evaluate(new WatchState(), Seen(256, 10, metadataUsedPercent: 65, metadataMiB: 2), policy);
        Assert.Equal(PoolEventKind.MetadataThreshold, Assert.Single(events).Kind);
        Assert.Equal(new Extension(PoolSpace.Metadata, 2 * MiB, 4 * MiB), Assert.Single(steps));
        var huge = Seen(256, 10, metadataUsedPercent: 65, metadataMiB: 16000);
        Assert.Equal(PoolSpec.MaxMetadataSize, Assert.Single(Evaluate(new WatchState(), huge, policy).Steps).To);
    }

    [Fact]
    public void A_flagged_or_read_only_pool_is_never_grown_and_the_flag_is_reported_once()
    {
        var state = new WatchState();
        var policy = new WatchPolicy { Data = At70By25, Extends = true };
        var (events, steps) = Evaluate(state, Seen(256, 90, PoolMode.ReadOnly, needsCheck: true), policy);
        Assert.Empty(steps);
        Assert.Contains(events, e => e.Kind == PoolEventKind.NeedsCheck);
        Assert.Contains("not extending", events.Single(e => e.Kind == PoolEventKind.DataThreshold).Message, StringComparison.Ordinal);
        (events, _) = Evaluate(state, Seen(256, 90, PoolMode.ReadOnly, needsCheck: true), policy);
        Assert.Empty(events);
    }

    [Fact]
    public void The_low_water_mark_follows_the_data_threshold_when_autoextend_is_on()
    {
        var record = new PoolRecord { Name = "web", Id = "abc", DataPath = "/d", MetadataPath = "/m", DataSize = 256 * MiB, MetadataSize = 4 * MiB, BlockSize = Block, LowWaterMarkBlocks = 7 };
        Assert.Equal(7UL, record.LowWaterMarkFor(4096));
        var watched = record with { DataAutoextend = At70By25 };
        Assert.Equal(4096UL * 30 / 100, watched.LowWaterMarkFor(4096));
        Assert.Equal(4096UL * 30 / 100, watched.TableFor(new DeviceNumber(7, 1), new DeviceNumber(7, 0)).LowWaterMarkBlocks);
        Assert.Equal(1UL, (record with { DataAutoextend = At70By25 with { ThresholdPercent = 99 } }).LowWaterMarkFor(50));
    }
}
