namespace DmPowerShell.Registry;

/// <summary>
/// Names of pools and volumes, and the device-mapper names and uuids made from them.
/// dm names follow LVM's convention: components joined by '-', each '-' inside a component
/// doubled, so `/dev/mapper/` paths are predictable and never collide.
/// </summary>
public static class Naming
{
    /// <summary>dm's DM_NAME_LEN is 128 bytes including the terminating NUL.</summary>
    public const int MaxDeviceNameLength = 127;
    public const string UuidPrefix = "DMPS-";

    /// <summary>Why a pool or volume name is not acceptable, or null when it is.</summary>
    public static string? Check(string? name, string what)
    {
        if (string.IsNullOrEmpty(name))
        {
            return $"The {what} name is empty.";
        }
        foreach (var c in name)
        {
            var allowed = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_' or '.' or '+';
            if (!allowed)
            {
                var shown = char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";
                return $"The {what} name '{Printable(name)}' contains {shown}; use letters, digits and - _ . + only.";
            }
        }
        if (name[0] is '-' or '.')
        {
            return $"The {what} name '{name}' starts with '{name[0]}'; start it with a letter, digit, _ or +.";
        }
        return null;
    }

    /// <summary>The dm name of a pool: its name with each '-' doubled.</summary>
    public static string PoolDeviceName(string pool) => Escape(pool);

    /// <summary>The dm name of a volume: `&lt;pool&gt;-&lt;volume&gt;`, each inner '-' doubled.</summary>
    public static string VolumeDeviceName(string pool, string volume) => $"{Escape(pool)}-{Escape(volume)}";

    /// <summary>LVM's dm name of a logical volume: `vg-lv`, with the same doubling.</summary>
    public static string LvmDeviceName(string volumeGroup, string logicalVolume) => $"{Escape(volumeGroup)}-{Escape(logicalVolume)}";

    public static string PoolUuid(string poolId) => $"{UuidPrefix}{poolId}-pool";

    public static string VolumeUuid(string poolId, uint thinId) => $"{VolumeUuidPrefix(poolId)}{thinId}";

    /// <summary>What every volume uuid of the pool starts with.</summary>
    public static string VolumeUuidPrefix(string poolId) => $"{UuidPrefix}{poolId}-";

    public static string Escape(string component) => component.Replace("-", "--", StringComparison.Ordinal);

    /// <summary>The volume name in a device name of this pool (undoing the '-' doubling); null when it is not one.</summary>
    public static string? VolumeNameFromDevice(string pool, string deviceName)
    {
        var prefix = Escape(pool) + "-";
        if (!deviceName.StartsWith(prefix, StringComparison.Ordinal) || deviceName.Length == prefix.Length)
        {
            return null;
        }
        var escaped = deviceName[prefix.Length..];
        // A single '-' left after undoubling would not have come from Escape.
        return escaped.Replace("--", "", StringComparison.Ordinal).Contains('-') ? null : escaped.Replace("--", "-", StringComparison.Ordinal);
    }

    /// <summary>The thin id in a volume UUID of this pool (DMPS-&lt;pool id&gt;-&lt;thin id&gt;); null otherwise.</summary>
    public static uint? ThinIdFromUuid(string poolId, string? uuid)
    {
        var prefix = VolumeUuidPrefix(poolId);
        return uuid is not null && uuid.StartsWith(prefix, StringComparison.Ordinal)
            && uint.TryParse(uuid.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    private static string Printable(string text) =>
        new(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
