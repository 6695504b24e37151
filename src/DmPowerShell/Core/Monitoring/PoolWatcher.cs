using System.Diagnostics;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Monitoring;

/// <summary>
/// Watch-ThinPool: waits for the pools' device-mapper events (the data low water mark, the
/// kernel's metadata threshold, mode changes) and checks them on a timer as well (for the
/// metadata threshold of the policy, which the kernel does not know), reports each change as a
/// <see cref="ThinPoolEvent"/>, and grows the module's own pools as their autoextend policy says.
/// While it runs it holds each pool's <see cref="WatchLocks"/> lock.
/// </summary>
public sealed class PoolWatcher
{
    private readonly PoolService pools;
    private readonly IDeviceMapper dm;
    private readonly object gate = new();
    private DeviceMapperEvents? events;
    private bool stopped;

    public PoolWatcher(PoolService pools, IDeviceMapper? client = null)
    {
        this.pools = pools;
        dm = client ?? pools.DeviceMapper;
    }

    /// <summary>Ends <see cref="Run"/> promptly; safe from any thread (Ctrl+C reaches it through StopProcessing).</summary>
    public void Stop()
    {
        lock (gate)
        {
            stopped = true;
            events?.Cancel();
        }
    }

    /// <summary>
    /// Watches the named pools (the module's names, or device-mapper names of other pools; all
    /// the module's pools when none is named) until <see cref="Stop"/> or the timeout.
    /// Events go to <paramref name="emit"/> on the calling thread; extensions ask <paramref name="host"/>.
    /// </summary>
    /// <param name="afterChecks">Called after every round of checks with the watched pools' names (the metrics file); its failures are warnings.</param>
    public void Run(IReadOnlyList<string>? names, TimeSpan? timeout, TimeSpan interval, Action<ThinPoolEvent> emit, IOperationHost host,
        Action<IReadOnlyList<string>>? afterChecks = null)
    {
        var targets = Resolve(names);
        var locks = new List<FileLock>();
        try
        {
            Directory.CreateDirectory(WatchLocks.Folder);
            foreach (var target in targets)
            {
                var held = FileLock.TryAcquire(WatchLocks.PathOf(target.Device));
                if (held is null)
                {
                    throw new DmPowerShellException(ErrorIds.PoolWatched, ErrorKind.ResourceBusy,
                        $"Pool '{target.Name}' is already watched by {WatchLocks.HolderOf(target.Device) ?? "another process"}; two watchers would extend it twice. Stop that one first.", target.Name);
                }
                locks.Add(held);
            }
            using var waiter = DeviceMapperEvents.Open();
            lock (gate)
            {
                if (stopped) return;
                events = waiter;
            }
            var clock = Stopwatch.StartNew();
            // Armed before each check: an event during the check still ends the next wait.
            waiter.Arm();
            foreach (var target in targets)
            {
                Check(target, emit, host, first: true);
            }
            AfterChecks(targets, afterChecks, host);
            var nextTimer = interval;
            while (!waiter.IsCancelled && targets.Any(t => !t.Removed))
            {
                var wait = nextTimer - clock.Elapsed;
                if (timeout is { } limit)
                {
                    if (clock.Elapsed >= limit) break;
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks, (limit - clock.Elapsed).Ticks));
                }
                waiter.Wait(wait < TimeSpan.Zero ? TimeSpan.Zero : wait);
                if (waiter.IsCancelled) break;
                waiter.Arm();
                if (clock.Elapsed >= nextTimer)
                {
                    nextTimer = clock.Elapsed + interval;
                }
                foreach (var target in targets.Where(t => !t.Removed))
                {
                    Check(target, emit, host, first: false);
                }
                AfterChecks(targets, afterChecks, host);
            }
        }
        finally
        {
            lock (gate)
            {
                events = null;
            }
            foreach (var held in locks) held.Dispose();
        }
    }

    private static void AfterChecks(List<Target> targets, Action<IReadOnlyList<string>>? afterChecks, IOperationHost host)
    {
        var watched = targets.Where(t => !t.Removed).Select(t => t.Owned ? t.Name : t.Device).ToList();
        if (afterChecks is null || watched.Count == 0) return;
        try
        {
            afterChecks(watched);
        }
        catch (Exception e) when (ErrorIds.IsExpected(e) || e is IOException or UnauthorizedAccessException)
        {
            // The watch matters more than its metrics: say it, and try again at the next check.
            host.Warning($"The metrics were not written: {e.Message}");
        }
    }

    private sealed class Target
    {
        public required string Name { get; init; }
        public required string Device { get; init; }
        public bool Owned { get; init; }
        public PoolManager Manager { get; init; }
        public long? BlockSize { get; set; }
        public WatchState State { get; } = new();
        public bool Removed { get; set; }
        /// <summary>Steps declined under -WhatIf, asked once each.</summary>
        public HashSet<(PoolSpace, long)> Declined { get; } = new();
    }

    private List<Target> Resolve(IReadOnlyList<string>? names)
    {
        if (names is null || names.Count == 0)
        {
            var all = pools.Registry.ListPools();
            if (all.Count == 0)
            {
                throw new DmPowerShellException(ErrorIds.PoolNotFound, ErrorKind.NotFound,
                    $"There is no pool in {pools.Registry.Root} to watch; name a device-mapper pool to watch one the module does not manage.", null);
            }
            return all.Select(TargetOf).ToList();
        }
        var targets = new List<Target>();
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            var record = Naming.Check(name, "pool") is null ? pools.Registry.FindPool(name) : null;
            if (record is not null)
            {
                targets.Add(TargetOf(record));
                continue;
            }
            var device = name.StartsWith("/dev/mapper/", StringComparison.Ordinal) ? name["/dev/mapper/".Length..] : name;
            var info = device.Contains('/') ? null : dm.GetInfo(device);
            if (info is null || dm.GetTable(device) is not [{ TargetType: ThinPoolTable.TargetType }])
            {
                throw new DmPowerShellException(ErrorIds.PoolNotFound, ErrorKind.NotFound,
                    $"There is no pool named '{name}': neither in {pools.Registry.Root} nor as an active device-mapper thin pool.", name);
            }
            var manager = info.Uuid?.StartsWith("LVM-", StringComparison.Ordinal) == true ? PoolManager.Lvm : PoolManager.Other;
            targets.Add(new Target { Name = device, Device = device, Owned = false, Manager = manager });
        }
        return targets;
    }

    private Target TargetOf(PoolRecord record) => new()
    {
        Name = record.Name,
        Device = pools.LiveDeviceName(record) ?? record.DeviceName,
        Owned = true,
        Manager = pools.BackingOf(record).Manager,
    };

    /// <summary>One look at a pool: events for what changed, then the steps due, until none is.</summary>
    private void Check(Target target, Action<ThinPoolEvent> emit, IOperationHost host, bool first)
    {
        for (var round = 0; round < PoolWatchRules.MaxStepsPerCheck; round++)
        {
            PoolRecord? record = null;
            if (target.Owned)
            {
                record = pools.Registry.FindPool(target.Name);
                if (record is null)
                {
                    target.Removed = true;
                    emit(new ThinPoolEvent { Name = target.Name, DeviceName = target.Device, Kind = PoolEventKind.Removed, Message = "the pool was removed; its watch ends" });
                    return;
                }
            }
            var live = dm.GetInfoAndStatus(target.Device);
            if (live is null || live.Value.Status is not [{ } line])
            {
                if (!target.State.Inactive)
                {
                    target.State.Inactive = true;
                    emit(new ThinPoolEvent
                    {
                        Name = target.Name,
                        DeviceName = target.Device,
                        Kind = PoolEventKind.Inactive,
                        Message = first ? "the pool is not active; watching for it to come back" : "the pool was deactivated; watching for it to come back",
                    });
                }
                return;
            }
            ThinPoolStatus status;
            try
            {
                status = ThinPoolStatus.Parse(line.Parameters);
            }
            catch (FormatException)
            {
                return; // not a thin-pool status (the device was replaced); the next event tells more
            }
            target.BlockSize ??= record?.BlockSize ?? (long)ThinPoolTable.Parse(dm.GetTable(target.Device).Single().Parameters).BlockSizeBytes;
            var now = PoolObservation.From(status, target.BlockSize.Value);
            var policy = PolicyOf(target, record);
            if (target.State.Inactive)
            {
                target.State.Inactive = false;
                emit(PoolWatchRules.Event(target.Name, target.Device, now, policy, PoolEventKind.Active, "the pool is active again"));
            }
            if (first && round == 0)
            {
                emit(PoolWatchRules.Event(target.Name, target.Device, now, policy, PoolEventKind.Started, Describe(now, policy)));
            }
            var (found, steps) = PoolWatchRules.Evaluate(target.Name, target.Device, target.State, now, policy);
            foreach (var e in found) emit(e);
            steps.RemoveAll(s => target.Declined.Contains((s.Space, s.To)));
            if (steps.Count == 0 || record is null)
            {
                return;
            }
            foreach (var step in steps)
            {
                if (!Extend(target, record, step, now, policy, emit, host))
                {
                    return;
                }
            }
        }
    }

    private WatchPolicy PolicyOf(Target target, PoolRecord? record)
    {
        if (record is null || pools.BackingOf(record).GrowthLimits(record) is not { } limits)
        {
            return new WatchPolicy
            {
                Extends = false,
                ReportOnlyReason = target.Manager == PoolManager.Lvm
                    ? "LVM manages this pool: its own policy and monitoring (thin_pool_autoextend_threshold, dmeventd) grow it"
                    : "the module does not manage this pool: reporting only",
            };
        }
        return new WatchPolicy
        {
            Data = record.DataAutoextend,
            Metadata = record.MetadataAutoextend,
            Extends = true,
            DataLimit = limits.Data,
            MetadataLimit = limits.Metadata,
        };
    }

    private static string Describe(PoolObservation now, WatchPolicy policy) =>
        $"watching: data {now.DataUsedPercent}% of {ByteSize.Format(now.DataSize)}, metadata {now.MetadataUsedPercent}% of {ByteSize.Format(now.MetadataSize)}, mode {PoolWatchRules.ModeName(now.Mode)}; "
        + (policy.ReportOnlyReason ?? $"data autoextend {policy.Data}, metadata autoextend {policy.Metadata}");

    /// <summary>One step through Resize-ThinPool's own code (the pool's lock, its crash safety, -WhatIf); false when it did not happen.</summary>
    private bool Extend(Target target, PoolRecord record, Extension step, PoolObservation now, WatchPolicy policy, Action<ThinPoolEvent> emit, IOperationHost host)
    {
        // Storage that already grew (a resize killed before its reload) is never asked to shrink.
        var to = Math.Max(step.To, pools.BackingOf(record).StoredSize(record, metadata: step.Space == PoolSpace.Metadata));
        try
        {
            var grown = step.Space == PoolSpace.Data
                ? pools.Resize(record.Name, to, null, host)
                : pools.Resize(record.Name, null, to, host);
            if (grown is null)
            {
                target.Declined.Add((step.Space, step.To));
                return false;
            }
            pools.Registry.CountAutoextend(record.Name, metadata: step.Space == PoolSpace.Metadata, DateTimeOffset.Now);
            var space = step.Space == PoolSpace.Data ? "data" : "metadata";
            emit(PoolWatchRules.Event(target.Name, target.Device, now, policy, PoolEventKind.Extended,
                $"{space} grown from {ByteSize.Format(step.From)} to {ByteSize.Format(to)} at {(step.Space == PoolSpace.Data ? now.DataUsedPercent : now.MetadataUsedPercent)}% used")
                with { Space = step.Space, OldSize = step.From, NewSize = to });
            return true;
        }
        catch (Exception e) when (ErrorIds.IsExpected(e))
        {
            emit(PoolWatchRules.Event(target.Name, target.Device, now, policy, PoolEventKind.ExtensionFailed,
                $"growing the {(step.Space == PoolSpace.Data ? "data" : "metadata")} to {ByteSize.Format(to)} failed: {e.Message}")
                with { Space = step.Space, OldSize = step.From, NewSize = to, ErrorId = ErrorIds.Of(e) });
            return false;
        }
    }
}
