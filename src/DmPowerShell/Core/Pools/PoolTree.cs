using DmPowerShell.Volumes;

namespace DmPowerShell.Pools;

/// <summary>Builds the rows of a pool's device tree from the pool and its volumes (pure: no kernel, no registry).</summary>
public static class PoolTree
{
    public static IReadOnlyList<PoolTreeNode> Build(ThinPool pool, IReadOnlyList<ThinVolume> volumes)
    {
        var rows = new List<PoolTreeNode>
        {
            new() { Pool = pool.Name, Tree = pool.Name, Name = pool.Name, Type = "thin-pool", Size = pool.DataSize, Device = pool.Device, Path = pool.DevicePath, Active = pool.Active },
        };
        var children = new List<Action<string, bool>>
        {
            (prefix, last) => rows.Add(Row(pool, prefix, last, 1, "data", "data", pool.DataSize, null, Backing(pool.DataDevice, pool.DataPath), pool.Active)),
            (prefix, last) => rows.Add(Row(pool, prefix, last, 1, "metadata", "metadata", pool.MetadataSize, null, Backing(pool.MetadataDevice, pool.MetadataPath), pool.Active)),
        };
        var ids = volumes.Select(v => v.ThinId).ToHashSet();
        // A snapshot whose origin is gone (or not listed) hangs from the pool, as its own root.
        var roots = volumes.Where(v => v.OriginId is not { } origin || !ids.Contains(origin)).OrderBy(v => v.ThinId).ToList();
        foreach (var root in roots)
        {
            children.Add((prefix, last) => AddVolume(rows, pool, volumes, root, prefix, last, 1));
        }
        for (var i = 0; i < children.Count; i++)
        {
            children[i]("", i == children.Count - 1);
        }
        return rows;
    }

    private static void AddVolume(List<PoolTreeNode> rows, ThinPool pool, IReadOnlyList<ThinVolume> volumes, ThinVolume volume, string prefix, bool last, int depth)
    {
        rows.Add(Row(pool, prefix, last, depth, volume.Name, volume.IsSnapshot ? "snapshot" : "thin", volume.Size, volume.Device, volume.DevicePath, volume.Active));
        var snapshots = volumes.Where(v => v.OriginId == volume.ThinId).OrderBy(v => v.ThinId).ToList();
        var childPrefix = prefix + (last ? "  " : "│ ");
        for (var i = 0; i < snapshots.Count; i++)
        {
            AddVolume(rows, pool, volumes, snapshots[i], childPrefix, i == snapshots.Count - 1, depth + 1);
        }
    }

    private static PoolTreeNode Row(ThinPool pool, string prefix, bool last, int depth, string name, string type, long size, string? device, string? path, bool active) => new()
    {
        Pool = pool.Name,
        Tree = prefix + (last ? "└─" : "├─") + name,
        Name = name,
        Type = type,
        Size = size,
        Device = device,
        Path = path,
        Active = active,
        Depth = depth,
    };

    private static string Backing(string? device, string path) => device is null ? path : $"{device} ({path})";
}
