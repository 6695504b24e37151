using DmPowerShell.Units;

namespace DmPowerShell.Lvm;

/// <summary>What an LVM-mode New-ThinPool does, as the guide's commands (pure: the plan, never the run).</summary>
public sealed record LvmPoolPlan
{
    /// <summary>The guide's chunk size: 512K.</summary>
    public const long DefaultChunkSize = 512 * ByteSize.KiB;

    public required string VolumeGroup { get; init; }
    public required string LogicalVolume { get; init; }
    /// <summary>Devices that become PVs (pvcreate), then form or extend the VG.</summary>
    public IReadOnlyList<string> NewPhysicalVolumes { get; init; } = Array.Empty<string>();
    public bool VolumeGroupExists { get; init; }
    /// <summary>Null: the guide's 95%VG for data and 1%VG for metadata.</summary>
    public long? DataSize { get; init; }
    public long? MetadataSize { get; init; }
    public long ChunkSize { get; init; } = DefaultChunkSize;
    public string Discards { get; init; } = "passdown";
    public bool ErrorWhenFull { get; init; }
    public int AutoextendThreshold { get; init; } = 80;
    public int AutoextendPercent { get; init; } = 20;
    /// <summary>LVM's profile folder (lvmconfig config/profile_dir).</summary>
    public required string ProfileFolder { get; init; }

    public string Pool => $"{VolumeGroup}/{LogicalVolume}";
    public string MetadataLogicalVolume => $"{LogicalVolume}meta";
    public string ProfileName => $"{VolumeGroup}-{LogicalVolume}";
    public string ProfilePath => Path.Combine(ProfileFolder, ProfileName + ".profile");

    /// <summary>The profile the guide writes by hand: LVM's autoextend settings for this pool.</summary>
    public string ProfileText => ProfileTextFor(AutoextendThreshold, AutoextendPercent);

    public static string ProfileTextFor(int threshold, int percent) =>
        $"# Written by DmPowerShell (New-ThinPool / Set-ThinPool): LVM extends the pool at {threshold}% used by {percent}%.\n"
        + "activation {\n"
        + $"\tthin_pool_autoextend_threshold={threshold}\n"
        + $"\tthin_pool_autoextend_percent={percent}\n"
        + "}\n";

    /// <summary>LVM sizes in KiB, exact for any size the module accepts (LVM rounds up to whole extents).</summary>
    public static string Size(long bytes) => $"{(bytes + 1023) / 1024}k";

    /// <summary>The commands before the profile is written.</summary>
    public IReadOnlyList<LvmCommand> Build()
    {
        var commands = new List<LvmCommand>();
        foreach (var device in NewPhysicalVolumes)
        {
            commands.Add(new("pvcreate", new[] { "--yes", device }));
        }
        if (!VolumeGroupExists)
        {
            commands.Add(new("vgcreate", new[] { VolumeGroup }.Concat(NewPhysicalVolumes).ToList()));
        }
        else if (NewPhysicalVolumes.Count > 0)
        {
            commands.Add(new("vgextend", new[] { VolumeGroup }.Concat(NewPhysicalVolumes).ToList()));
        }
        commands.Add(new("lvcreate", new[] { "--yes", "--wipesignatures", "y", "-n", LogicalVolume, VolumeGroup }
            .Concat(DataSize is { } data ? new[] { "-L", Size(data) } : new[] { "-l", "95%VG" }).ToList()));
        commands.Add(new("lvcreate", new[] { "--yes", "--wipesignatures", "y", "-n", MetadataLogicalVolume, VolumeGroup }
            .Concat(MetadataSize is { } meta ? new[] { "-L", Size(meta) } : new[] { "-l", "1%VG" }).ToList()));
        commands.Add(new("lvconvert", new[]
        {
            "--yes", "--zero", "n", "-c", Size(ChunkSize), "--discards", Discards,
            "--thinpool", Pool, "--poolmetadata", $"{VolumeGroup}/{MetadataLogicalVolume}",
        }));
        return commands;
    }

    /// <summary>The commands after the profile is written.</summary>
    public IReadOnlyList<LvmCommand> Finish()
    {
        var commands = new List<LvmCommand> { new("lvchange", new[] { "--metadataprofile", ProfileName, Pool }) };
        if (ErrorWhenFull)
        {
            commands.Add(new("lvchange", new[] { "--errorwhenfull", "y", Pool }));
        }
        return commands;
    }

    /// <summary>Resize-ThinPool: vgextend with new PVs, then lvextend of the data and/or --poolmetadatasize.</summary>
    public static IReadOnlyList<LvmCommand> Resize(string volumeGroup, string logicalVolume, IReadOnlyList<string> newPhysicalVolumes, long? dataSize, long? metadataSize)
    {
        var commands = new List<LvmCommand>();
        foreach (var device in newPhysicalVolumes)
        {
            commands.Add(new("pvcreate", new[] { "--yes", device }));
        }
        if (newPhysicalVolumes.Count > 0)
        {
            commands.Add(new("vgextend", new[] { volumeGroup }.Concat(newPhysicalVolumes).ToList()));
        }
        var pool = $"{volumeGroup}/{logicalVolume}";
        if (dataSize is { } data)
        {
            commands.Add(new("lvextend", new[] { "-L", Size(data), pool }));
        }
        if (metadataSize is { } meta)
        {
            commands.Add(new("lvextend", new[] { "--poolmetadatasize", Size(meta), pool }));
        }
        return commands;
    }

}
