using System.Text;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;

namespace DmPowerShell.Monitoring;

/// <summary>
/// Export-PoolMetric and Watch-ThinPool -MetricPath: reads the pools as Get-PoolStatus does and
/// writes them for Prometheus' textfile collector, which requires a whole file at every read
/// (temporary file, then rename; node_exporter ignores names not ending in .prom).
/// </summary>
public sealed class PoolMetricsExporter
{
    /// <summary>World-readable: node_exporter runs as its own user (prometheus on Debian).</summary>
    private const int FileMode = 0b110_100_100; // 0644

    private readonly PoolService pools;
    private readonly PoolStatusReader reader;

    public PoolMetricsExporter(PoolService pools, IDeviceMapper? client = null)
    {
        this.pools = pools;
        reader = new PoolStatusReader(pools, client);
    }

    /// <summary>The text for the named pools (the module's names or device-mapper names); every pool when none is named.</summary>
    public string Render(IReadOnlyList<string>? names)
    {
        var active = new List<PoolStatus>();
        var inactive = new List<PoolRecord>();
        if (names is null || names.Count == 0)
        {
            active.AddRange(reader.ReadAll());
            inactive.AddRange(pools.Registry.ListPools().Where(r => !pools.IsActive(r)));
        }
        else
        {
            foreach (var name in names.Distinct(StringComparer.Ordinal))
            {
                if (Naming.Check(name, "pool") is null && pools.Registry.FindPool(name) is { } record && !pools.IsActive(record))
                {
                    inactive.Add(record);
                    continue;
                }
                active.Add(reader.Read(name));
            }
        }
        var counted = active.Select(s => new PoolMetrics.ActivePool(s,
            s.Manager == PoolManager.DmPowerShell && s.Name is { } owned ? pools.Registry.ReadAutoextendCounts(owned) : null)).ToList();
        return PoolMetrics.Render(counted, inactive);
    }

    public static void Validate(string path)
    {
        if (!path.EndsWith(".prom", StringComparison.Ordinal))
        {
            throw new DmPowerShellException(ErrorIds.InvalidSetting, ErrorKind.InvalidArgument,
                $"The metrics file '{path}' should end in .prom: node_exporter's textfile collector reads only such files.", path);
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
        {
            throw new DmPowerShellException(ErrorIds.InvalidSetting, ErrorKind.InvalidArgument,
                $"The folder of the metrics file '{path}' does not exist (node_exporter's --collector.textfile.directory; Debian's is /var/lib/prometheus/node-exporter).", path);
        }
    }

    /// <summary>Writes the text whole: a scrape sees the last file or the new one, never half of one.</summary>
    public void Write(string path, IReadOnlyList<string>? names)
    {
        Validate(path);
        DurableFile.Write(path, Encoding.UTF8.GetBytes(Render(names)), mode: FileMode);
    }
}
