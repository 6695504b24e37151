using System.Globalization;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Interop;

/// <summary>A device number, written major:minor as device-mapper tables use it.</summary>
public readonly record struct DeviceNumber(uint Major, uint Minor)
{
    public override string ToString() => $"{Major}:{Minor}";

    public static DeviceNumber Parse(string text)
    {
        if (!TryParse(text, out var number))
        {
            throw new FormatException($"'{text}' is not a major:minor device number.");
        }
        return number;
    }

    public static bool TryParse(string? text, out DeviceNumber number)
    {
        number = default;
        var parts = text?.Split(':');
        if (parts is not { Length: 2 }
            || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
        {
            return false;
        }
        number = new DeviceNumber(major, minor);
        return true;
    }

    /// <summary>glibc's encoding of dev_t (gnu_dev_major/gnu_dev_minor).</summary>
    public static DeviceNumber FromDevT(ulong dev) => new(
        (uint)(((dev >> 32) & 0xfffff000) | ((dev >> 8) & 0x00000fff)),
        (uint)(((dev >> 12) & 0xffffff00) | (dev & 0x000000ff)));
}
