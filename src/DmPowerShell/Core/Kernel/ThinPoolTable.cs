using System.Globalization;
using DmPowerShell.Interop;
using DmPowerShell.Units;

namespace DmPowerShell.Kernel;

/// <summary>
/// The parameters of a thin-pool target:
/// `&lt;metadata dev&gt; &lt;data dev&gt; &lt;block size&gt; &lt;low water mark&gt; [&lt;#features&gt; &lt;feature&gt;...]`.
/// </summary>
public sealed record ThinPoolTable
{
    public const string TargetType = "thin-pool";
    public const uint MinBlockSectors = 128;          // 64 KiB
    public const uint MaxBlockSectors = 2_097_152;    // 1 GiB
    public const uint BlockSectorsMultiple = 128;     // multiples of 64 KiB

    public required DeviceNumber MetadataDevice { get; init; }
    public required DeviceNumber DataDevice { get; init; }
    public required uint BlockSizeSectors { get; init; }
    public ulong LowWaterMarkBlocks { get; init; }
    public bool SkipBlockZeroing { get; init; }
    public DiscardMode DiscardMode { get; init; } = DiscardMode.Passdown;
    public NoSpacePolicy NoSpacePolicy { get; init; } = NoSpacePolicy.Queue;
    public bool ReadOnly { get; init; }

    public ulong BlockSizeBytes => (ulong)Sectors.ToBytes(BlockSizeSectors);

    /// <summary>The feature words in the order dmsetup prints them.</summary>
    public IReadOnlyList<string> Features
    {
        get
        {
            var features = new List<string>();
            if (SkipBlockZeroing) features.Add("skip_block_zeroing");
            if (DiscardMode == DiscardMode.Ignore) features.Add("ignore_discard");
            if (DiscardMode == DiscardMode.NoPassdown) features.Add("no_discard_passdown");
            if (ReadOnly) features.Add("read_only");
            if (NoSpacePolicy == NoSpacePolicy.Error) features.Add("error_if_no_space");
            return features;
        }
    }

    /// <summary>Why a block size is not one the kernel takes, or null when it is fine.</summary>
    public static string? CheckBlockSize(ulong sectors)
    {
        if (sectors < MinBlockSectors || sectors > MaxBlockSectors)
        {
            return $"the block size must be between 64 KiB and 1 GiB (128 to 2097152 sectors); {sectors} sectors is outside that range";
        }
        if (sectors % BlockSectorsMultiple != 0)
        {
            return $"the block size must be a multiple of 64 KiB (128 sectors); {sectors} sectors is not";
        }
        return null;
    }

    public string ToParameters() => ToParameters(MetadataDevice.ToString(), DataDevice.ToString());

    /// <summary>The target line -WhatIf shows before the devices exist: placeholders where their numbers go.</summary>
    public string Describe(ulong lengthSectors, string metadataDevice, string dataDevice) =>
        $"0 {lengthSectors} {TargetType} {ToParameters(metadataDevice, dataDevice)}";

    private string ToParameters(string metadataDevice, string dataDevice)
    {
        var features = Features;
        var text = string.Create(CultureInfo.InvariantCulture, $"{metadataDevice} {dataDevice} {BlockSizeSectors} {LowWaterMarkBlocks}");
        return features.Count == 0 ? text : $"{text} {features.Count} {string.Join(' ', features)}";
    }

    public DmTarget ToTarget(ulong lengthSectors) => new(0, lengthSectors, TargetType, ToParameters());

    public static ThinPoolTable Parse(string parameters)
    {
        var words = parameters.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 4
            || !uint.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out var blockSize)
            || !ulong.TryParse(words[3], NumberStyles.None, CultureInfo.InvariantCulture, out var lowWater)
            || !DeviceNumber.TryParse(words[0], out var metadataDevice) || !DeviceNumber.TryParse(words[1], out var dataDevice))
        {
            throw new FormatException($"'{parameters}' is not a thin-pool table.");
        }
        var table = new ThinPoolTable
        {
            MetadataDevice = metadataDevice,
            DataDevice = dataDevice,
            BlockSizeSectors = blockSize,
            LowWaterMarkBlocks = lowWater,
        };
        if (words.Length == 4)
        {
            return table;
        }
        if (!int.TryParse(words[4], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || words.Length != 5 + count)
        {
            throw new FormatException($"'{parameters}' has a feature count that does not match its features.");
        }
        foreach (var feature in words.Skip(5))
        {
            table = feature switch
            {
                "skip_block_zeroing" => table with { SkipBlockZeroing = true },
                "ignore_discard" => table with { DiscardMode = DiscardMode.Ignore },
                "no_discard_passdown" => table with { DiscardMode = DiscardMode.NoPassdown },
                "read_only" => table with { ReadOnly = true },
                "error_if_no_space" => table with { NoSpacePolicy = NoSpacePolicy.Error },
                _ => throw new FormatException($"'{feature}' is not a thin-pool feature."),
            };
        }
        return table;
    }
}
