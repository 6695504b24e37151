using DmPowerShell.Interop;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Storage;

/// <summary>Who uses a block device: mounts in any mount namespace, holders, open handles.</summary>
public static class DeviceUsage
{
    /// <summary>Mount points of a device across every mount namespace (from /proc/*/mountinfo).</summary>
    public static IReadOnlyList<string> Mounts(DeviceNumber device)
    {
        var key = device.ToString();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pidDir in SafeEnumerate("/proc"))
        {
            var pid = Path.GetFileName(pidDir);
            if (!pid.All(char.IsAsciiDigit))
            {
                continue;
            }
            string[] lines;
            try
            {
                lines = File.ReadAllLines(Path.Combine(pidDir, "mountinfo"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // the process ended, or is not ours to read
            }
            foreach (var line in lines)
            {
                var fields = line.Split(' ');
                if (fields.Length > 4 && fields[2] == key)
                {
                    seen.Add($"{fields[4]} (pid {pid})");
                }
            }
        }
        // One line per mount point is enough; keep the first process seen for each.
        return seen.GroupBy(s => s[..s.LastIndexOf(" (pid", StringComparison.Ordinal)]).Select(g => g.First()).OrderBy(s => s).ToList();
    }

    /// <summary>The kernel devices stacked on this one (/sys/dev/block/M:m/holders).</summary>
    public static IReadOnlyList<string> Holders(DeviceNumber device)
    {
        var folder = $"/sys/dev/block/{device}/holders";
        return SafeEnumerate(folder).Select(h =>
        {
            var name = Path.GetFileName(h);
            var dmName = Path.Combine(h, "dm", "name");
            return File.Exists(dmName) ? $"{name} ({File.ReadAllText(dmName).Trim()})" : name;
        }).ToList();
    }

    /// <summary>Why the device cannot be taken, or null when it is free: mounted, held, or opened exclusively.</summary>
    public static string? WhyBusy(string path)
    {
        var device = BlockDevices.GetDeviceNumber(path);
        var mounts = Mounts(device);
        if (mounts.Count > 0)
        {
            return $"{path} is mounted at {string.Join(", ", mounts)}";
        }
        var holders = Holders(device);
        if (holders.Count > 0)
        {
            return $"{path} is held by {string.Join(", ", holders)}";
        }
        const int O_EXCL = 0x80;
        try
        {
            using var probe = FileDescriptor.Open(path, O_RDONLY | O_EXCL);
        }
        catch (NativeCallException e) when (e.Errno == Errno.EBUSY)
        {
            return $"{path} is in use (another program holds it open exclusively)";
        }
        return null;
    }

    /// <summary>A file-system, LVM, RAID or partition-table signature on the device, or null (blkid -p).</summary>
    public static string? Signature(string path)
    {
        var result = ExternalTool.Run("blkid", new[] { "-p", "-o", "export", path });
        if (result.ExitCode == 2)
        {
            return null; // nothing found
        }
        if (result.ExitCode != 0)
        {
            throw new DmPowerShellException(ErrorIds.ProbeFailed, ErrorKind.OperationFailed,
                $"blkid could not probe {path} (exit {result.ExitCode}): {result.Error.Trim()}", path);
        }
        var values = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (values.TryGetValue("TYPE", out var type)) return $"a {type} signature";
        if (values.TryGetValue("PTTYPE", out var table)) return $"a {table} partition table";
        return "a signature (" + string.Join(", ", values.Select(kv => $"{kv.Key}={kv.Value}")) + ")";
    }

    private static IEnumerable<string> SafeEnumerate(string folder)
    {
        try
        {
            return Directory.Exists(folder) ? Directory.EnumerateFileSystemEntries(folder).ToList() : Enumerable.Empty<string>();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Enumerable.Empty<string>();
        }
    }
}
