using System.Globalization;

namespace DmPowerShell.Units;

/// <summary>
/// Sizes in PowerShell's binary units: 1KB = 1KiB = 1024, so `10GB`, "10G", "10GB" and "10GiB"
/// all mean 10 x 2^30 bytes. Plain numbers are bytes.
/// </summary>
public static class ByteSize
{
    public const long KiB = 1L << 10, MiB = 1L << 20, GiB = 1L << 30, TiB = 1L << 40, PiB = 1L << 50;

    /// <summary>Parses "512", "512B", "10K", "10KB", "10KiB", "1.5G" ... (case-insensitive).</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var span = text.Trim();
        var unitStart = span.Length;
        while (unitStart > 0 && char.IsLetter(span[unitStart - 1]))
        {
            unitStart--;
        }
        var number = span[..unitStart].Trim();
        var unit = span[unitStart..].ToUpperInvariant();
        long multiplier = unit switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => KiB,
            "M" or "MB" or "MIB" => MiB,
            "G" or "GB" or "GIB" => GiB,
            "T" or "TB" or "TIB" => TiB,
            "P" or "PB" or "PIB" => PiB,
            "S" or "SECTORS" => 512,
            _ => 0,
        };
        if (multiplier == 0
            || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }
        var total = value * multiplier;
        if (total != decimal.Truncate(total) || total > long.MaxValue || total < long.MinValue)
        {
            return false;
        }
        bytes = (long)total;
        return true;
    }

    public static long Parse(string text) =>
        TryParse(text, out var bytes)
            ? bytes
            : throw new FormatException($"'{text}' is not a size. Use a number of bytes or a number with a unit: 512MB, 10G, 10GiB (1KB = 1024 bytes).");

    /// <summary>Formats in binary units with up to two decimals: "100 GiB", "1.5 MiB", "512 B".</summary>
    public static string Format(long bytes) => Format((decimal)bytes);

    public static string Format(ulong bytes) => Format((decimal)bytes);

    private static string Format(decimal bytes)
    {
        string[] units = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        var value = Math.Abs(bytes);
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        var sign = bytes < 0 ? "-" : "";
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{Math.Round(value, 2):0.##} {units[unit]}");
    }
}
