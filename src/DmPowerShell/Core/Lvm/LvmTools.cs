using DmPowerShell.Registry;
using DmPowerShell.Storage;

namespace DmPowerShell.Lvm;

/// <summary>
/// LVM's own commands, run with an argument list (LVM has no stable C library): the queries the
/// LVM backing asks and the changes it makes. LVM's configuration comes from the environment
/// (LVM_SYSTEM_DIR), as for any LVM command.
/// </summary>
public static class LvmTools
{

    // ---------------------------------------------------------------- LVM's view

    private static ToolResult Query(string program, params string[] arguments) => ExternalTool.Run(program, arguments, TimeSpan.FromMinutes(2));

    /// <summary>Runs one change; a failure says which command and what LVM answered.</summary>
    public static string Run(LvmCommand command, IOperationHost host)
    {
        host.Verbose(command.ToString());
        var result = ExternalTool.Run(command.Program, command.Arguments, TimeSpan.FromMinutes(10));
        if (result.ExitCode != 0)
        {
            throw new DmPowerShellException(ErrorIds.LvmCommandFailed, ErrorKind.OperationFailed,
                $"'{command}' failed (exit {result.ExitCode}): {result.Error.Trim()}", command.ToString());
        }
        return result.Output;
    }

    public static bool VolumeGroupExists(string volumeGroup) => Query("vgs", "--noheadings", "-o", "vg_name", volumeGroup).ExitCode == 0;

    public static bool LogicalVolumeExists(string volumeGroup, string logicalVolume) =>
        Query("lvs", "--noheadings", "-o", "lv_name", $"{volumeGroup}/{logicalVolume}").ExitCode == 0;

    /// <summary>The VG a device is a PV of: "" for a PV in no VG, null for a device that is no PV.</summary>
    public static string? VolumeGroupOf(string device)
    {
        var result = Query("pvs", "--noheadings", "-o", "vg_name", device);
        return result.ExitCode == 0 ? result.Output.Trim() : null;
    }

    /// <summary>Where LVM looks for profiles (config/profile_dir; $LVM_SYSTEM_DIR/profile by default).</summary>
    public static string ProfileFolder()
    {
        var result = Query("lvmconfig", "--typeconfig", "full", "config/profile_dir");
        var line = result.Output.Trim();
        var start = line.IndexOf('"');
        if (result.ExitCode == 0 && start >= 0 && line.LastIndexOf('"') > start)
        {
            return line[(start + 1)..line.LastIndexOf('"')];
        }
        return Path.Combine(Environment.GetEnvironmentVariable("LVM_SYSTEM_DIR") ?? "/etc/lvm", "profile");
    }

    /// <summary>LVM's seg_monitor: "monitored", "not monitored" (dmeventd does not watch it), "not enabled" (monitoring off in lvm.conf).</summary>
    public static string? Monitoring(PoolRecord record)
    {
        var result = Query("lvs", "--noheadings", "-o", "seg_monitor", Target(record));
        return result.ExitCode != 0 ? null : MonitoringState(result.Output);
    }

    /// <summary>
    /// seg_monitor as one vocabulary on every LVM: with activation/monitoring = 0, LVM 2.03.31 (Debian 13)
    /// prints "not enabled" and 2.03.16 (Debian 12) leaves the field blank; both read "not enabled".
    /// </summary>
    public static string MonitoringState(string lvsOutput) => lvsOutput.Trim() is { Length: > 0 } state ? state : "not enabled";

    /// <summary>The pool's data and metadata sizes as LVM has them.</summary>
    public static (long Data, long Metadata) Sizes(string volumeGroup, string logicalVolume)
    {
        var output = Run(new LvmCommand("lvs", new[] { "--noheadings", "--units", "b", "--nosuffix", "--separator", ",", "-o", "lv_size,lv_metadata_size", $"{volumeGroup}/{logicalVolume}" }), SilentHost.Instance);
        var parts = output.Trim().Split(',');
        return (long.Parse(parts[0].Trim(), System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1].Trim(), System.Globalization.CultureInfo.InvariantCulture));
    }

    public static string Target(PoolRecord record) => $"{record.VolumeGroup}/{record.LogicalVolume}";

    /// <summary>New devices for a VG: each a free block device (in use: refused; a signature: refused unless -Force), or a PV of no VG.</summary>
    public static List<string> NewPhysicalVolumes(string volumeGroup, IReadOnlyList<string> devices, bool force, out List<string> orphans)
    {
        var fresh = new List<string>();
        orphans = new List<string>();
        foreach (var device in devices.Select(Path.GetFullPath).Distinct())
        {
            DeviceChecks.RequireBlockDevice(device);
            switch (VolumeGroupOf(device))
            {
                case null:
                    DeviceChecks.CheckDeviceFree(device, force);
                    fresh.Add(device);
                    break;
                case "":
                    orphans.Add(device);
                    break;
                case var owner when owner == volumeGroup:
                    break; // already there: a re-run after an interrupted creation
                case var owner:
                    throw new DmPowerShellException(ErrorIds.DeviceInUse, ErrorKind.ResourceBusy,
                        $"Refusing to use {device}: it is a physical volume of the volume group '{owner}'.", device);
            }
        }
        return fresh;
    }
}
