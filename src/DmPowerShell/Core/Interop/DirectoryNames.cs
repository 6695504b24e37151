using System.Runtime.InteropServices;
using System.Text;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Interop;

/// <summary>
/// The names in a folder from getdents64 alone. .NET's enumeration stats the target of every
/// symbolic link to learn whether it is a folder; a device's holders in sysfs are all links, so
/// reading a pool's 10,000 holders cost 10,000 path walks through sysfs.
/// </summary>
public static unsafe partial class DirectoryNames
{
    private const int O_DIRECTORY = 0x10000;

    /// <summary>Every name in <paramref name="path"/> but . and ..; null when it cannot be opened.</summary>
    public static List<string>? Read(string path)
    {
        FileDescriptor folder;
        try
        {
            folder = FileDescriptor.Open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        catch (NativeCallException)
        {
            return null;
        }
        using (folder)
        {
            var names = new List<string>();
            var buffer = new byte[32 * 1024];
            fixed (byte* start = buffer)
            {
                while (true)
                {
                    var read = getdents64(folder.Fd, start, (nuint)buffer.Length);
                    if (read < 0)
                    {
                        return null;
                    }
                    if (read == 0)
                    {
                        return names;
                    }
                    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                    for (nint offset = 0; offset < read;)
                    {
                        var entry = start + offset;
                        var length = *(ushort*)(entry + 16);
                        var name = Marshal.PtrToStringUTF8((IntPtr)(entry + 19)) ?? "";
                        if (name is not ("." or "..")) names.Add(name);
                        offset += length;
                    }
                }
            }
        }
    }

    // glibc 2.30 and later export it; Tmds.LibC has no getdents64.
    [LibraryImport("libc", SetLastError = true)]
    private static partial nint getdents64(int fd, byte* buffer, nuint count);
}
