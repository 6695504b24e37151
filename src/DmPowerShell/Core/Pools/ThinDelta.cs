using System.Globalization;
using System.Xml;

namespace DmPowerShell.Pools;

/// <summary>thin_delta's XML: the ranges in which two thin devices' mappings differ, at the pool's block granularity.</summary>
public static class ThinDelta
{
    public static IReadOnlyList<ThinDeltaRange> Parse(string xml)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, IgnoreWhitespace = true };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        long blockBytes = 0;
        var result = new List<ThinDeltaRange>();
        while (reader.Read())
        {
            if (reader.NodeType != XmlNodeType.Element) continue;
            if (reader.Name == "superblock")
            {
                blockBytes = Number(reader, "data_block_size") * 512;
                continue;
            }
            DifferenceKind? kind = reader.Name switch
            {
                "left_only" => DifferenceKind.LeftOnly,
                "right_only" => DifferenceKind.RightOnly,
                "different" => DifferenceKind.Different,
                _ => null,
            };
            if (kind is null || reader.GetAttribute("begin") is null) continue;
            if (blockBytes == 0) throw new FormatException("thin_delta's output has no superblock before its ranges.");
            var range = new ThinDeltaRange(kind.Value, Number(reader, "begin") * blockBytes, Number(reader, "length") * blockBytes);
            // Neighbours of one kind are one range to the user.
            if (result.Count > 0 && result[^1] is var last && last.Kind == range.Kind && last.Offset + last.Length == range.Offset)
            {
                result[^1] = last with { Length = last.Length + range.Length };
            }
            else
            {
                result.Add(range);
            }
        }
        if (blockBytes == 0) throw new FormatException("thin_delta's output has no superblock.");
        return result;
    }

    private static long Number(XmlReader reader, string attribute) =>
        long.Parse(reader.GetAttribute(attribute) ?? throw new FormatException($"thin_delta's <{reader.Name}> has no {attribute}."), NumberStyles.None, CultureInfo.InvariantCulture);
}
