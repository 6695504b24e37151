using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using DmPowerShell.Kernel;

namespace DmPowerShell.Monitoring;

/// <summary>
/// A watcher's event as a journal entry with fields of its own (POOL, POOL_EVENT, POOL_SPACE,
/// sizes, ERROR_ID), so that `journalctl POOL_EVENT=Extended` finds extensions; encoded in
/// journald's native protocol (pure: the bytes of one datagram).
/// </summary>
public static class JournalEntry
{
    public const string Identifier = "dmpowershell-watch";

    /// <summary>The fields of an event, MESSAGE and PRIORITY first.</summary>
    public static IReadOnlyList<(string Name, string Value)> Fields(ThinPoolEvent e)
    {
        static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
        var fields = new List<(string, string)>
        {
            ("MESSAGE", $"{e.Name} {e.Kind}: {e.Message}"),
            ("PRIORITY", Priority(e).ToString(CultureInfo.InvariantCulture)),
            ("SYSLOG_IDENTIFIER", Identifier),
            ("POOL", e.Name),
            ("POOL_DEVICE", e.DeviceName),
            ("POOL_EVENT", e.Kind.ToString()),
            ("DATA_USED_PERCENT", Number(e.DataUsedPercent)),
            ("METADATA_USED_PERCENT", Number(e.MetadataUsedPercent)),
            ("DATA_SIZE", e.DataSpaceTotal.ToString(CultureInfo.InvariantCulture)),
            ("METADATA_SIZE", e.MetadataSpaceTotal.ToString(CultureInfo.InvariantCulture)),
        };
        if (e.Space is { } space) fields.Add(("POOL_SPACE", space.ToString()));
        if (e.Mode is { } mode) fields.Add(("POOL_MODE", mode.ToString()));
        if (e.OldSize is { } oldSize) fields.Add(("OLD_SIZE", oldSize.ToString(CultureInfo.InvariantCulture)));
        if (e.NewSize is { } newSize) fields.Add(("NEW_SIZE", newSize.ToString(CultureInfo.InvariantCulture)));
        if (e.ErrorId is { } id) fields.Add(("ERROR_ID", id));
        return fields;
    }

    /// <summary>syslog priorities: what an operator must act on is a warning or worse.</summary>
    public static int Priority(ThinPoolEvent e) => e.Kind switch
    {
        PoolEventKind.NeedsCheck or PoolEventKind.ExtensionFailed => 3,                        // err
        PoolEventKind.ModeChanged when e.Mode is PoolMode.OutOfDataSpace or PoolMode.ReadOnly => 3,
        PoolEventKind.LimitReached or PoolEventKind.DataThreshold or PoolEventKind.MetadataThreshold => 4, // warning
        PoolEventKind.Removed or PoolEventKind.Inactive or PoolEventKind.ModeChanged => 5,        // notice
        _ => 6,                                                                                   // info
    };

    /// <summary>
    /// The native protocol: NAME=value lines; a value holding a line feed is written as NAME, a
    /// line feed, its length as a little-endian 64-bit number, the value and a line feed.
    /// </summary>
    public static byte[] Encode(IEnumerable<(string Name, string Value)> fields)
    {
        var bytes = new List<byte>();
        foreach (var (name, value) in fields)
        {
            var data = Encoding.UTF8.GetBytes(value);
            bytes.AddRange(Encoding.ASCII.GetBytes(name));
            if (Array.IndexOf(data, (byte)'\n') < 0)
            {
                bytes.Add((byte)'=');
                bytes.AddRange(data);
            }
            else
            {
                bytes.Add((byte)'\n');
                var length = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)data.Length);
                bytes.AddRange(length);
                bytes.AddRange(data);
            }
            bytes.Add((byte)'\n');
        }
        return bytes.ToArray();
    }
}
