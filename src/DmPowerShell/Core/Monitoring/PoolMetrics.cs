using System.Globalization;
using System.Text;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;

namespace DmPowerShell.Monitoring;

/// <summary>
/// Pools in Prometheus' text exposition format (version 0.0.4), for node_exporter's textfile
/// collector: one family per figure, each pool a series labelled with its name, its
/// device-mapper name and who manages it. Sizes in bytes, as Prometheus' base units ask.
/// </summary>
public static class PoolMetrics
{
    public const string Prefix = "dmpowershell_pool_";

    /// <summary>An active pool, with the watcher's counts when the module manages it.</summary>
    public sealed record ActivePool(PoolStatus Status, AutoextendCounts? Counts);

    /// <summary>The text for <paramref name="active"/> pools and the recorded pools that are not active.</summary>
    public static string Render(IReadOnlyList<ActivePool> active, IReadOnlyList<PoolRecord> inactive)
    {
        var text = new StringBuilder();
        void Family(string name, string type, string help, IEnumerable<(string Labels, double Value)> series)
        {
            text.Append("# HELP ").Append(Prefix).Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(Prefix).Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in series)
            {
                text.Append(Prefix).Append(name).Append('{').Append(labels).Append("} ").Append(Number(value)).Append('\n');
            }
        }
        IEnumerable<(string, double)> Each(Func<PoolStatus, double> value) => active.Select(p => (Labels(p.Status), value(p.Status)));

        Family("active", "gauge", "1 when the pool's device is active, 0 for a recorded pool that is not.",
            Each(_ => 1).Concat(inactive.Select(r => (Labels(r.Name, r.DeviceName, PoolManager.DmPowerShell), 0d))));
        Family("data_used_bytes", "gauge", "Data space the pool's thin devices use.", Each(s => s.DataSpaceUsed));
        Family("data_size_bytes", "gauge", "The pool's data space.", Each(s => s.DataSpaceTotal));
        Family("metadata_used_bytes", "gauge", "Metadata space in use.", Each(s => s.MetadataSpaceUsed));
        Family("metadata_size_bytes", "gauge", "The pool's metadata space.", Each(s => s.MetadataSpaceTotal));
        Family("mode", "gauge", "The pool's I/O mode as the kernel reports it: 1 for the current mode (read_write, read_only, out_of_data_space, failed).",
            active.SelectMany(p => Modes.Select(mode => (Labels(p.Status, ("mode", mode)), ModeOf(p.Status) == mode ? 1d : 0d))));
        Family("needs_check", "gauge", "1 when the kernel flagged the pool's metadata for a check (Repair-ThinPool).", Each(s => s.NeedsCheck == true ? 1 : 0));
        Family("transaction_id", "gauge", "The transaction id in the pool's metadata.", Each(s => s.TransactionId));
        Family("volumes", "gauge", "Thin devices on the pool.", Each(s => s.ThinVolumeCount));
        Family("provisioned_bytes", "gauge", "The sum of the thin devices' sizes.", Each(s => s.ProvisionedSize));
        Family("watched", "gauge", "1 while a Watch-ThinPool watches the pool on this host.", Each(s => s.Watched ? 1 : 0));
        Family("autoextend_enabled", "gauge", "1 when the module's autoextend policy is on for the pool's data or metadata.", Each(s => s.AutoextendEnabled ? 1 : 0));
        Family("autoextend_events_total", "counter", "Times the watcher grew the pool, by space.",
            active.Where(p => p.Counts is not null).SelectMany(p => new[]
            {
                (Labels(p.Status, ("space", "data")), (double)p.Counts!.Data),
                (Labels(p.Status, ("space", "metadata")), (double)p.Counts!.Metadata),
            }));
        return text.ToString();
    }

    private static readonly string[] Modes = { "read_write", "read_only", "out_of_data_space", "failed" };

    private static string ModeOf(PoolStatus status) => status.Health == TargetHealth.Fail ? "failed" : status.Mode switch
    {
        PoolMode.ReadOnly => "read_only",
        PoolMode.OutOfDataSpace => "out_of_data_space",
        _ => "read_write",
    };

    private static string Labels(PoolStatus status, params (string Name, string Value)[] more) =>
        Labels(status.Name ?? status.DeviceName, status.DeviceName, status.Manager, more);

    private static string Labels(string pool, string device, PoolManager manager, params (string Name, string Value)[] more)
    {
        var labels = new List<(string, string)> { ("pool", pool), ("device", device), ("manager", manager.ToString()) };
        labels.AddRange(more);
        return string.Join(",", labels.Select(l => $"{l.Item1}=\"{Escape(l.Item2)}\""));
    }

    /// <summary>Label values escape backslash, double quote and line feed (the format's only three).</summary>
    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
