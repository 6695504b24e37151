using System.Globalization;
using DmPowerShell.Units;

namespace DmPowerShell.Kernel;

/// <summary>A thin target's status: `&lt;mapped sectors&gt; &lt;highest mapped sector|-&gt;`, or Fail/Error/-.</summary>
public sealed record ThinDeviceStatus(TargetHealth Health, ulong MappedSectors, ulong? HighestMappedSector)
{
    public ulong MappedBytes => (ulong)Sectors.ToBytes(MappedSectors);

    public static ThinDeviceStatus Parse(string parameters)
    {
        var text = parameters.Trim();
        switch (text)
        {
            case "Fail": return new ThinDeviceStatus(TargetHealth.Fail, 0, null);
            case "Error": return new ThinDeviceStatus(TargetHealth.Error, 0, null);
            case "-": return new ThinDeviceStatus(TargetHealth.Unavailable, 0, null);
        }
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 2 || !ulong.TryParse(words[0], NumberStyles.None, CultureInfo.InvariantCulture, out var mapped))
        {
            throw new FormatException($"'{parameters}' is not a thin status line.");
        }
        ulong? highest = null;
        if (words[1] != "-")
        {
            highest = ulong.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
                ? h
                : throw new FormatException($"'{parameters}' is not a thin status line.");
        }
        return new ThinDeviceStatus(TargetHealth.Ok, mapped, highest);
    }
}
