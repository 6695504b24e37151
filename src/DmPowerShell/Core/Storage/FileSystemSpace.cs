using DmPowerShell.Interop;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Storage;

/// <summary>Size and free space of the file system that holds a path (statvfs).</summary>
public readonly record struct FileSystemSpace(long Total, long Available)
{
    public static unsafe FileSystemSpace Of(string path)
    {
        var bytes = FileDescriptor.NullTerminated(path);
        statvfs st;
        fixed (byte* p = bytes)
        {
            if (LibC.statvfs(p, &st) != 0)
            {
                throw new NativeCallException("statvfs", path, errno);
            }
        }
        var fragment = (long)(ulong)st.f_frsize;
        return new FileSystemSpace((long)(ulong)st.f_blocks * fragment, (long)(ulong)st.f_bavail * fragment);
    }
}
