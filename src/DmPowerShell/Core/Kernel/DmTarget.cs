using System.Globalization;

namespace DmPowerShell.Kernel;

/// <summary>One line of a device-mapper table or status: a target over a range of sectors.</summary>
public sealed record DmTarget(ulong StartSector, ulong LengthSectors, string TargetType, string Parameters)
{
    /// <summary>The line as `dmsetup table` prints it.</summary>
    public override string ToString() => $"{StartSector} {LengthSectors} {TargetType} {Parameters}".TrimEnd();

    /// <summary>Parses `start length type params...`.</summary>
    public static DmTarget Parse(string line)
    {
        var parts = line.Trim().Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            throw new FormatException($"'{line}' is not a device-mapper table line.");
        }
        return new DmTarget(start, length, parts[2], parts.Length > 3 ? parts[3] : "");
    }
}
