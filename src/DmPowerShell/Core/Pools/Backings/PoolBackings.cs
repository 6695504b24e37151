using DmPowerShell.Registry;

namespace DmPowerShell.Pools.Backings;

/// <summary>The one place that turns a pool's backing mode into the type that knows it.</summary>
public static class PoolBackings
{
    public static IPoolBacking For(PoolBacking kind, PoolService pools) => kind switch
    {
        PoolBacking.Loop => new LoopBacking(pools),
        PoolBacking.Direct => new DirectBacking(pools),
        PoolBacking.Lvm => new LvmBacking(pools),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a backing this version does not know"),
    };

    /// <summary>The mode New-ThinPool's parameters ask for: a volume group, block devices, or else sparse files.</summary>
    public static PoolBacking KindOf(PoolSpec spec) =>
        spec.VolumeGroup is not null ? PoolBacking.Lvm
        : spec.DataDevice is not null || spec.MetadataDevice is not null ? PoolBacking.Direct
        : PoolBacking.Loop;

    /// <summary>The mode of a live pool whose record was lost: loop devices under it, or block devices.</summary>
    public static PoolBacking KindOf(bool dataOnLoop) => dataOnLoop ? PoolBacking.Loop : PoolBacking.Direct;
}
