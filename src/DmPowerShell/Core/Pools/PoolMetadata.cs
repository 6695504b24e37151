using System.Globalization;
using System.Xml;

namespace DmPowerShell.Pools;

/// <summary>The pool's own metadata: its transaction id and thin devices, read by thin_dump.</summary>
public sealed partial record PoolMetadata(ulong Transaction, ulong DataBlockSectors, ulong DataBlocks, IReadOnlyList<MetadataDevice> Devices)
{
    /// <summary>With one device's mappings read: the highest virtual block they reach.</summary>
    public ulong? HighestMappedBlock { get; init; }

    /// <summary>Parses thin_dump's XML (with or without mappings); the superblock and its devices.</summary>
    /// <remarks>thin_dump 1.x (seen with 1.1.0) leaves out the superblock's flags="0" and the final newline that 0.9.0 writes; neither is read.</remarks>
    public static PoolMetadata ParseXml(string xml)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, IgnoreWhitespace = true };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        ulong transaction = 0, blockSize = 0, blocks = 0;
        var devices = new List<MetadataDevice>();
        var sawSuperblock = false;
        while (reader.Read())
        {
            if (reader.NodeType != XmlNodeType.Element) continue;
            if (reader.Name == "superblock")
            {
                sawSuperblock = true;
                transaction = Number(reader, "transaction");
                blockSize = Number(reader, "data_block_size");
                blocks = Number(reader, "nr_data_blocks");
            }
            else if (reader.Name == "device")
            {
                devices.Add(new MetadataDevice(
                    (uint)Number(reader, "dev_id"),
                    Number(reader, "mapped_blocks"),
                    Number(reader, "transaction"),
                    (uint)Number(reader, "creation_time"),
                    (uint)Number(reader, "snap_time")));
            }
        }
        if (!sawSuperblock)
        {
            throw new FormatException("thin_dump's output has no superblock.");
        }
        return new PoolMetadata(transaction, blockSize, blocks, devices);
    }

    /// <summary>
    /// thin_dump's XML with the superblock's nr_data_blocks set to <paramref name="dataBlocks"/> where
    /// it says 0, as thin_dump of a metadata snapshot writes. thin_restore 0.9 takes --nr-data-blocks
    /// instead; 1.x (seen with 1.1.0) ignores that option when the XML says 0 and fails with "block
    /// out of bounds" at the first mapping: the file itself must carry the geometry. Only the
    /// superblock's own tag is touched (the first element of the document); with nothing to change,
    /// the same string is returned.
    /// </summary>
    public static string WithDataBlocks(string xml, ulong dataBlocks)
    {
        var start = xml.IndexOf("<superblock", StringComparison.Ordinal);
        var end = start < 0 ? -1 : xml.IndexOf('>', start);
        if (end < 0) throw new FormatException("thin_dump's output has no superblock.");
        var tag = xml[start..end];
        var patched = ZeroDataBlocks().Replace(tag, $"nr_data_blocks=\"{dataBlocks.ToString(CultureInfo.InvariantCulture)}\"", 1);
        return patched == tag ? xml : string.Concat(xml.AsSpan(0, start), patched, xml.AsSpan(end));
    }

    [System.Text.RegularExpressions.GeneratedRegex("\\bnr_data_blocks=\"0\"")]
    private static partial System.Text.RegularExpressions.Regex ZeroDataBlocks();

    private static ulong Number(XmlReader reader, string attribute) =>
        reader.GetAttribute(attribute) is { } text ? ulong.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) : 0;
}
