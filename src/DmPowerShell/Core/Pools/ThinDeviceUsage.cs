using System.Globalization;

namespace DmPowerShell.Pools;

/// <summary>
/// What the pool's metadata says one thin device uses: the bytes it maps, and when asked, the
/// bytes no other device shares (what deleting it frees) and the bytes it shares.
/// </summary>
public sealed record ThinDeviceUsage(uint Id, long MappedBytes, long? ExclusiveBytes, long? SharedBytes)
{
    // Mapped bytes come from each device's details; exclusive and shared make thin_ls walk every mapping.
    public const string MappedFields = "DEV,MAPPED_BYTES";
    public const string ExclusiveFields = "DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES";

    /// <summary>thin_ls --no-headers output in the order of <see cref="MappedFields"/> or <see cref="ExclusiveFields"/>.</summary>
    /// <remarks>
    /// Standard output only: thin_ls 1.x (seen with 1.1.0) prints "Scanning data mappings" on standard
    /// error before the exclusive and shared columns; 0.9.0 prints nothing there. The columns are alike.
    /// </remarks>
    public static IReadOnlyList<ThinDeviceUsage> Parse(string output, bool exclusive)
    {
        var result = new List<ThinDeviceUsage>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != (exclusive ? 4 : 2))
            {
                throw new FormatException($"thin_ls printed '{line}', not {(exclusive ? ExclusiveFields : MappedFields)}.");
            }
            long Number(int index) => long.Parse(words[index], NumberStyles.None, CultureInfo.InvariantCulture);
            result.Add(new ThinDeviceUsage(uint.Parse(words[0], NumberStyles.None, CultureInfo.InvariantCulture), Number(1),
                exclusive ? Number(2) : null, exclusive ? Number(3) : null));
        }
        return result;
    }
}
