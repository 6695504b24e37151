using System.Globalization;
using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Pools;

/// <summary>The checks on a pool's settings, made before anything is created.</summary>
public static class PoolRules
{
    /// <summary>Throws a typed error for the first bad setting; returns warnings for odd but legal ones.</summary>
    public static IReadOnlyList<string> Validate(PoolSpec spec, long dataSize, long metadataSize)
    {
        var warnings = new List<string>();
        CheckName(spec.Name);
        CheckBlockSize(spec.BlockSize);
        if (dataSize <= 0)
        {
            throw Invalid(ErrorIds.InvalidSize, $"The data size must be positive; {dataSize} bytes is not.", dataSize);
        }
        if (dataSize % spec.BlockSize != 0)
        {
            throw Invalid(ErrorIds.InvalidSize,
                $"The data size {dataSize} bytes ({ByteSize.Format(dataSize)}) is not a multiple of the block size {ByteSize.Format(spec.BlockSize)}; use {ByteSize.Format(RoundUp(dataSize, spec.BlockSize))}.", dataSize);
        }
        CheckMetadataSize(metadataSize);
        var guideline = MetadataGuideline(dataSize, spec.BlockSize);
        if (MappingMetadata(dataSize, spec.BlockSize) > PoolSpec.MaxMetadataSize)
        {
            // Past the kernel's largest metadata the guideline cannot be met: only larger blocks help.
            var blockSize = spec.BlockSize;
            while (MappingMetadata(dataSize, blockSize) > PoolSpec.MaxMetadataSize && blockSize < Units.Sectors.ToBytes(ThinPoolTable.MaxBlockSectors))
            {
                blockSize *= 2;
            }
            warnings.Add($"{ByteSize.Format(dataSize)} of data in {ByteSize.Format(spec.BlockSize)} blocks needs more metadata than the kernel's largest ({ByteSize.Format(PoolSpec.MaxMetadataSize)}, enough for the mappings of {ByteSize.Format((long)((decimal)PoolSpec.MaxMetadataSize / 48 * spec.BlockSize))}); -BlockSize {ByteSize.Format(blockSize)} would fit.");
        }
        else if (metadataSize < guideline)
        {
            warnings.Add($"The metadata size {ByteSize.Format(metadataSize)} is below the kernel's guideline for {ByteSize.Format(dataSize)} of data in {ByteSize.Format(spec.BlockSize)} blocks (48 x data / block size = {ByteSize.Format(guideline)}); the metadata may fill before the data does.");
        }
        if (spec.MinimumFreeSpacePercent is < 0 or > 99)
        {
            throw Invalid(ErrorIds.InvalidSetting, $"The minimum free space must be 0 to 99 percent; {spec.MinimumFreeSpacePercent} is not.", spec.MinimumFreeSpacePercent);
        }
        var blocks = (ulong)(dataSize / spec.BlockSize);
        if (spec.LowWaterMarkBlocks is { } mark && mark >= blocks)
        {
            throw Invalid(ErrorIds.InvalidSetting, $"The low water mark ({mark} blocks) must be below the pool's {blocks} data blocks.", mark);
        }
        return warnings;
    }

    public static void CheckName(string name)
    {
        var problem = Naming.Check(name, "pool");
        if (problem is null && Naming.PoolDeviceName(name).Length > Naming.MaxDeviceNameLength)
        {
            problem = $"The pool name '{name}' is too long: its device-mapper name would be {Naming.PoolDeviceName(name).Length} characters, over dm's {Naming.MaxDeviceNameLength}.";
        }
        if (problem is not null)
        {
            throw Invalid(ErrorIds.InvalidName, problem, name);
        }
    }

    public static void CheckBlockSize(long blockSize)
    {
        if (blockSize <= 0 || blockSize % Units.Sectors.Size != 0)
        {
            throw Invalid(ErrorIds.InvalidBlockSize, $"The block size must be a positive multiple of 64 KiB; {blockSize} bytes is not.", blockSize);
        }
        var problem = ThinPoolTable.CheckBlockSize(Units.Sectors.FromBytes(blockSize));
        if (problem is not null)
        {
            throw Invalid(ErrorIds.InvalidBlockSize, $"The block size {ByteSize.Format(blockSize)} is not allowed: {problem}.", blockSize);
        }
    }

    public static void CheckMetadataSize(long metadataSize)
    {
        if (metadataSize < PoolSpec.MinMetadataSize || metadataSize > PoolSpec.MaxMetadataSize)
        {
            throw Invalid(ErrorIds.MetadataSizeOutOfRange,
                $"The metadata size must be between 2 MiB and {ByteSize.Format(PoolSpec.MaxMetadataSize)} ({PoolSpec.MaxMetadataSectors} sectors, the kernel's limit); {metadataSize} bytes ({ByteSize.Format(metadataSize)}) is not.", metadataSize);
        }
        if (metadataSize % PoolSpec.MetadataBlockSize != 0)
        {
            throw Invalid(ErrorIds.InvalidSize,
                $"The metadata size must be a multiple of 4 KiB (the metadata block); {metadataSize} bytes is not.", metadataSize);
        }
    }

    /// <summary>
    /// The kernel documentation's guideline: 48 x data size / block size, at least 2 MiB, and at
    /// most the kernel's limit (a bigger metadata device is used only up to it).
    /// </summary>
    public static long MetadataGuideline(long dataSize, long blockSize) =>
        Math.Clamp(RoundUp((long)Math.Min(MappingMetadata(dataSize, blockSize), long.MaxValue / 2), PoolSpec.MetadataBlockSize), PoolSpec.MinMetadataSize, PoolSpec.MaxMetadataSize);

    /// <summary>What mapping every block of the data takes in metadata: 48 bytes a block (uncapped).</summary>
    private static decimal MappingMetadata(long dataSize, long blockSize) => (decimal)48 * dataSize / blockSize;

    /// <summary>The default low water mark: the kernel's event fires where the minimum free space begins.</summary>
    public static ulong DefaultLowWaterMark(ulong dataBlocks, int minimumFreeSpacePercent) =>
        Math.Min(dataBlocks - 1, (ulong)Math.Ceiling(dataBlocks * (minimumFreeSpacePercent / 100.0)));

    public static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;

    public static string Sectors(long bytes) => Units.Sectors.FromBytes(bytes).ToString(CultureInfo.InvariantCulture);

    public static DmPowerShellException Invalid(string id, string message, object? target) =>
        new(id, ErrorKind.InvalidArgument, message, target);
}
