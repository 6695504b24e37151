using DmPowerShell.Interop;
using DmPowerShell.Storage;

namespace DmPowerShell.Volumes;

/// <summary>The file system on a volume: made by mkfs, grown by resize2fs or xfs_growfs.</summary>
internal static class FileSystem
{
    public static void Format(string path, string volume, string fileSystem, IOperationHost host)
    {
        host.Progress($"Formatting '{volume}'", $"mkfs.{fileSystem} {path}", -1);
        host.Verbose($"mkfs.{fileSystem} {path}");
        var arguments = fileSystem == "xfs" ? new[] { "-q", path } : new[] { "-q", "-F", path };
        var result = ExternalTool.Run($"mkfs.{fileSystem}", arguments);
        host.Progress($"Formatting '{volume}'", "done", 100, completed: true);
        if (result.ExitCode != 0)
        {
            throw new DmPowerShellException(ErrorIds.FormatFailed, ErrorKind.OperationFailed,
                $"mkfs.{fileSystem} {path} failed (exit {result.ExitCode}): {result.Error.Trim()} The volume exists, unformatted.", volume);
        }
    }

    /// <summary>Grows the file system to fill its (grown) device; xfs only while mounted.</summary>
    public static void Grow(string path, string? recorded, IOperationHost host)
    {
        var device = BlockDevices.GetDeviceNumber(path);
        var fileSystem = recorded ?? Probe(path);
        ToolResult result;
        if (fileSystem == "xfs")
        {
            var mount = DeviceUsage.Mounts(device).FirstOrDefault() ?? throw new DmPowerShellException(ErrorIds.NotMounted, ErrorKind.InvalidState,
                $"xfs grows only while mounted: mount {path} first, then run Resize-ThinVolume -ResizeFileSystem again.", path);
            var mountPoint = mount[..mount.LastIndexOf(" (pid", StringComparison.Ordinal)];
            host.Verbose($"xfs_growfs {mountPoint}");
            result = ExternalTool.Run("xfs_growfs", new[] { mountPoint });
        }
        else if (fileSystem is "ext4" or "ext3" or "ext2")
        {
            host.Verbose($"resize2fs {path}");
            result = ExternalTool.Run("resize2fs", new[] { path });
        }
        else
        {
            throw new DmPowerShellException(ErrorIds.UnknownFileSystem, ErrorKind.NotSupported, $"{path} holds no ext4 or xfs file system to grow ({fileSystem ?? "none found"}).", path);
        }
        if (result.ExitCode != 0)
        {
            throw new DmPowerShellException(ErrorIds.FileSystemResizeFailed, ErrorKind.OperationFailed, $"{result.Program} failed (exit {result.ExitCode}): {result.Error.Trim()}", path);
        }
    }

    private static string? Probe(string path)
    {
        var result = ExternalTool.Run("blkid", new[] { "-p", "-s", "TYPE", "-o", "value", path });
        return result.ExitCode == 0 ? result.Output.Trim() : null;
    }
}
