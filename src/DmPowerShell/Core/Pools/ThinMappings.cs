using System.Globalization;
using System.Xml;

namespace DmPowerShell.Pools;

/// <summary>thin_dump's XML of one device (--dev-id): the ranges of it that map data blocks, in bytes, neighbours merged.</summary>
public static class ThinMappings
{
    public static IReadOnlyList<(long Offset, long Length)> Parse(string xml)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, IgnoreWhitespace = true };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        long blockBytes = 0;
        var result = new List<(long Offset, long Length)>();
        void Add(long begin, long blocks)
        {
            var range = (Offset: begin * blockBytes, Length: blocks * blockBytes);
            if (result.Count > 0 && result[^1].Offset + result[^1].Length == range.Offset)
            {
                result[^1] = (result[^1].Offset, result[^1].Length + range.Length);
            }
            else
            {
                result.Add(range);
            }
        }
        while (reader.Read())
        {
            if (reader.NodeType != XmlNodeType.Element) continue;
            switch (reader.Name)
            {
                case "superblock":
                    blockBytes = Number(reader, "data_block_size") * 512;
                    break;
                case "range_mapping":
                    if (blockBytes == 0) throw new FormatException("thin_dump's output has no superblock before its mappings.");
                    Add(Number(reader, "origin_begin"), Number(reader, "length"));
                    break;
                case "single_mapping":
                    if (blockBytes == 0) throw new FormatException("thin_dump's output has no superblock before its mappings.");
                    Add(Number(reader, "origin_block"), 1);
                    break;
            }
        }
        if (blockBytes == 0) throw new FormatException("thin_dump's output has no superblock.");
        // thin_dump lists a device's mappings in order of their origin blocks; sort in case a version does not.
        return result.OrderBy(r => r.Offset).ToList();
    }

    private static long Number(XmlReader reader, string attribute) =>
        long.Parse(reader.GetAttribute(attribute) ?? throw new FormatException($"thin_dump's <{reader.Name}> has no {attribute}."), NumberStyles.None, CultureInfo.InvariantCulture);
}
