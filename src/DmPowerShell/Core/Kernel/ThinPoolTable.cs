using System.Globalization;

namespace DmPowerShell.Kernel;

/// <summary>What a pool does with discards (the kernel's three feature words).</summary>
public enum DiscardMode
{
    /// <summary>Discards free pool blocks and are passed down to the data device (default).</summary>
    Passdown,
    /// <summary>Discards free pool blocks but are not passed down (no_discard_passdown).</summary>
    NoPassdown,
    /// <summary>Discards are ignored (ignore_discard).</summary>
    Ignore,
}

/// <summary>What the pool does when it runs out of data space.</summary>
public enum NoSpacePolicy
{
    /// <summary>Writes are queued until space arrives or a timeout (the kernel's default).</summary>
    Queue,
    /// <summary>Writes fail at once (error_if_no_space).</summary>
    Error,
}

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

    public required string MetadataDevice { get; init; }
    public required string DataDevice { get; init; }
    public required uint BlockSizeSectors { get; init; }
    public ulong LowWaterMarkBlocks { get; init; }
    public bool SkipBlockZeroing { get; init; }
    public DiscardMode DiscardMode { get; init; } = DiscardMode.Passdown;
    public NoSpacePolicy NoSpacePolicy { get; init; } = NoSpacePolicy.Queue;
    public bool ReadOnly { get; init; }

    public ulong BlockSizeBytes => (ulong)BlockSizeSectors * DmTarget.SectorSize;

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

    public string ToParameters()
    {
        var features = Features;
        var text = string.Create(CultureInfo.InvariantCulture, $"{MetadataDevice} {DataDevice} {BlockSizeSectors} {LowWaterMarkBlocks}");
        return features.Count == 0 ? text : $"{text} {features.Count} {string.Join(' ', features)}";
    }

    public DmTarget ToTarget(ulong lengthSectors) => new(0, lengthSectors, TargetType, ToParameters());

    public static ThinPoolTable Parse(string parameters)
    {
        var words = parameters.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 4
            || !uint.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out var blockSize)
            || !ulong.TryParse(words[3], NumberStyles.None, CultureInfo.InvariantCulture, out var lowWater))
        {
            throw new FormatException($"'{parameters}' is not a thin-pool table.");
        }
        var table = new ThinPoolTable
        {
            MetadataDevice = words[0],
            DataDevice = words[1],
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

/// <summary>The parameters of a thin target: `&lt;pool dev&gt; &lt;dev id&gt; [&lt;external origin dev&gt;]`.</summary>
public sealed record ThinTable(string PoolDevice, ThinId DeviceId, string? ExternalOrigin = null)
{
    public const string TargetType = "thin";

    public string ToParameters() => ExternalOrigin is null ? $"{PoolDevice} {DeviceId}" : $"{PoolDevice} {DeviceId} {ExternalOrigin}";

    public DmTarget ToTarget(ulong lengthSectors) => new(0, lengthSectors, TargetType, ToParameters());

    public static ThinTable Parse(string parameters)
    {
        var words = parameters.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length is < 2 or > 3 || !ThinId.TryParse(words[1], out var id))
        {
            throw new FormatException($"'{parameters}' is not a thin table.");
        }
        return new ThinTable(words[0], id, words.Length == 3 ? words[2] : null);
    }
}

/// <summary>A thin device id inside a pool: 24 bits.</summary>
public readonly record struct ThinId
{
    public const uint Max = (1u << 24) - 1;

    public ThinId(uint value)
    {
        if (value > Max)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"A thin device id is at most {Max} (24 bits).");
        }
        Value = value;
    }

    public uint Value { get; }

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out ThinId id)
    {
        id = default;
        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > Max)
        {
            return false;
        }
        id = new ThinId(value);
        return true;
    }

    public static implicit operator uint(ThinId id) => id.Value;
}
