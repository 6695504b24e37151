using static Tmds.Linux.LibC;

namespace DmPowerShell.Interop;

/// <summary>
/// libdevmapper opens its /dev/mapper/control descriptor without O_CLOEXEC, and .NET closes no
/// inherited descriptor when it starts a program: every child (LVM, mkfs, thin_check) would
/// inherit it, and LVM warns "File descriptor ... leaked" on each call. Marking it
/// close-on-exec keeps children clean.
/// </summary>
public static class InheritedDescriptors
{
    private const string ControlPath = "/dev/mapper/control";
    private const int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;

    /// <summary>Marks every open descriptor of the device-mapper control node close-on-exec.</summary>
    public static void ProtectControlDescriptors()
    {
        string[] entries;
        try
        {
            entries = Directory.GetFileSystemEntries("/proc/self/fd");
        }
        catch (IOException)
        {
            return;
        }
        foreach (var entry in entries)
        {
            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }
            if (target == ControlPath && int.TryParse(Path.GetFileName(entry), out var fd))
            {
                var flags = fcntl(fd, F_GETFD);
                if (flags >= 0 && (flags & FD_CLOEXEC) == 0)
                {
                    fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
                }
            }
        }
    }
}
