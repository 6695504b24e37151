using System.Globalization;

namespace DmPowerShell.Kernel;

/// <summary>
/// A thin-pool status line:
/// `&lt;transaction id&gt; &lt;used meta&gt;/&lt;total meta&gt; &lt;used data&gt;/&lt;total data&gt; &lt;held root|-&gt;
/// rw|ro|out_of_data_space discard_passdown|no_discard_passdown|ignore_discard
/// error_if_no_space|queue_if_no_space needs_check|- &lt;metadata low watermark&gt;`, or `Fail`/`Error`.
/// Older kernels omit the trailing fields: those come back null.
/// </summary>
public sealed record ThinPoolStatus
{
    public const ulong MetadataBlockBytes = 4096;

    public TargetHealth Health { get; init; }
    public ulong TransactionId { get; init; }
    public ulong UsedMetadataBlocks { get; init; }
    public ulong TotalMetadataBlocks { get; init; }
    public ulong UsedDataBlocks { get; init; }
    public ulong TotalDataBlocks { get; init; }
    /// <summary>The root of a held metadata snapshot (reserve_metadata_snap), or null.</summary>
    public ulong? HeldMetadataRoot { get; init; }
    public PoolMode Mode { get; init; }
    public DiscardMode? DiscardMode { get; init; }
    public NoSpacePolicy? NoSpacePolicy { get; init; }
    public bool? NeedsCheck { get; init; }
    public ulong? MetadataLowWatermark { get; init; }

    /// <summary>The raw status parameters, as the kernel wrote them.</summary>
    public string Raw { get; init; } = "";

    public static ThinPoolStatus Parse(string parameters)
    {
        var text = parameters.Trim();
        if (text is "Fail" or "Error")
        {
            return new ThinPoolStatus { Health = text == "Fail" ? TargetHealth.Fail : TargetHealth.Error, Raw = text };
        }
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 5)
        {
            throw new FormatException($"'{parameters}' is not a thin-pool status line.");
        }
        var (usedMeta, totalMeta) = Fraction(words[1], parameters);
        var (usedData, totalData) = Fraction(words[2], parameters);
        var status = new ThinPoolStatus
        {
            Health = TargetHealth.Ok,
            TransactionId = Number(words[0], parameters),
            UsedMetadataBlocks = usedMeta,
            TotalMetadataBlocks = totalMeta,
            UsedDataBlocks = usedData,
            TotalDataBlocks = totalData,
            HeldMetadataRoot = words[3] == "-" ? null : Number(words[3], parameters),
            Mode = words[4] switch
            {
                "rw" => PoolMode.ReadWrite,
                "ro" => PoolMode.ReadOnly,
                "out_of_data_space" => PoolMode.OutOfDataSpace,
                _ => throw new FormatException($"'{words[4]}' is not a thin-pool mode in '{parameters}'."),
            },
            Raw = text,
        };
        // The optional tail: words may be missing on older kernels, but are positional.
        if (words.Length > 5)
        {
            status = status with
            {
                DiscardMode = words[5] switch
                {
                    "discard_passdown" => Kernel.DiscardMode.Passdown,
                    "no_discard_passdown" => Kernel.DiscardMode.NoPassdown,
                    "ignore_discard" => Kernel.DiscardMode.Ignore,
                    _ => throw new FormatException($"'{words[5]}' is not a discard mode in '{parameters}'."),
                },
            };
        }
        if (words.Length > 6)
        {
            status = status with
            {
                NoSpacePolicy = words[6] switch
                {
                    "queue_if_no_space" => Kernel.NoSpacePolicy.Queue,
                    "error_if_no_space" => Kernel.NoSpacePolicy.Error,
                    _ => throw new FormatException($"'{words[6]}' is not a no-space policy in '{parameters}'."),
                },
            };
        }
        if (words.Length > 7)
        {
            status = status with { NeedsCheck = words[7] == "needs_check" };
        }
        if (words.Length > 8)
        {
            status = status with { MetadataLowWatermark = Number(words[8], parameters) };
        }
        return status;
    }

    private static ulong Number(string word, string line) =>
        ulong.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"'{word}' is not a number in '{line}'.");

    private static (ulong Used, ulong Total) Fraction(string word, string line)
    {
        var slash = word.IndexOf('/');
        if (slash < 0)
        {
            throw new FormatException($"'{word}' is not used/total in '{line}'.");
        }
        return (Number(word[..slash], line), Number(word[(slash + 1)..], line));
    }
}
