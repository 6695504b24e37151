using System.Globalization;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Interop;

/// <summary>Block device queries through ioctls and stat.</summary>
public static unsafe class BlockDevices
{
    private const uint BLKGETSIZE64 = 0x80081272;
    private const uint BLKDISCARD = 0x1277; // _IO(0x12, 119)
    private const int S_IFMT = 0xF000, S_IFBLK = 0x6000;

    /// <summary>Size in bytes (BLKGETSIZE64).</summary>
    public static ulong GetSize(string path)
    {
        using var fd = FileDescriptor.Open(path, O_RDONLY);
        ulong size = 0;
        fd.Ioctl(BLKGETSIZE64, &size, "BLKGETSIZE64");
        return size;
    }

    /// <summary>True when the path names a block device node.</summary>
    public static bool IsBlockDevice(string path)
    {
        var bytes = FileDescriptor.NullTerminated(path);
        stat st;
        fixed (byte* p = bytes)
        {
            if (LibC.stat(p, &st) != 0)
            {
                return false;
            }
        }
        return ((int)st.st_mode & S_IFMT) == S_IFBLK;
    }

    /// <summary>The major:minor of a block device node.</summary>
    public static DeviceNumber GetDeviceNumber(string path)
    {
        var bytes = FileDescriptor.NullTerminated(path);
        stat st;
        fixed (byte* p = bytes)
        {
            if (LibC.stat(p, &st) != 0)
            {
                throw new NativeCallException("stat", path, errno);
            }
        }
        if (((int)st.st_mode & S_IFMT) != S_IFBLK)
        {
            throw new NativeCallException("stat", path, Errno.ENOTTY);
        }
        return DeviceNumber.FromDevT(st.st_rdev);
    }

    /// <summary>Discards a byte range of an open block device (BLKDISCARD); offset and length must be sector multiples.</summary>
    public static void Discard(Microsoft.Win32.SafeHandles.SafeFileHandle device, long offset, long length)
    {
        var range = stackalloc ulong[2];
        range[0] = (ulong)offset;
        range[1] = (ulong)length;
        var added = false;
        device.DangerousAddRef(ref added);
        try
        {
            if (ioctl((int)device.DangerousGetHandle(), (int)BLKDISCARD, range) != 0)
            {
                throw new NativeCallException("ioctl(BLKDISCARD)", offset.ToString(CultureInfo.InvariantCulture), errno);
            }
        }
        finally
        {
            if (added) device.DangerousRelease();
        }
    }
}
