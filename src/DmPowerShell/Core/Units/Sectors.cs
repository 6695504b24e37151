namespace DmPowerShell.Units;

/// <summary>
/// Device-mapper counts in 512-byte sectors whatever the device's own block size; the module
/// counts in bytes. Every conversion between the two goes through here.
/// </summary>
public static class Sectors
{
    public const int Size = 512;

    /// <summary>The whole sectors in <paramref name="bytes"/> (a partial sector is not one).</summary>
    public static ulong FromBytes(long bytes) => (ulong)bytes / Size;

    public static ulong FromBytes(ulong bytes) => bytes / Size;

    public static long ToBytes(ulong sectors) => (long)sectors * Size;
}
