using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Interop;

/// <summary>A raw file descriptor opened with O_CLOEXEC, closed exactly once.</summary>
internal sealed class FileDescriptor : SafeHandle
{
    private FileDescriptor(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;

    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => close(Fd) == 0;

    /// <summary>Opens a path; throws <see cref="NativeCallException"/> with the errno on failure.</summary>
    public static unsafe FileDescriptor Open(string path, int flags, int mode = 0)
    {
        var bytes = NullTerminated(path);
        int fd;
        fixed (byte* p = bytes)
        {
            do
            {
                fd = open(p, flags | O_CLOEXEC, (mode_t)mode);
            }
            while (fd < 0 && errno == EINTR);
        }
        if (fd < 0)
        {
            throw new NativeCallException("open", path, errno);
        }
        return new FileDescriptor(fd);
    }

    /// <summary>Takes ownership of a descriptor a libc call returned.</summary>
    public static FileDescriptor Adopt(int fd) => new(fd);

    /// <summary>Runs an ioctl with a pointer argument; throws with the errno on failure.</summary>
    public unsafe int Ioctl(uint request, void* argument, string what)
    {
        int result;
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            do
            {
                result = ioctl(Fd, unchecked((int)request), argument);
            }
            while (result < 0 && errno == EINTR);
            if (result < 0)
            {
                throw new NativeCallException(what, null, errno);
            }
            return result;
        }
        finally
        {
            if (added) DangerousRelease();
        }
    }

    /// <summary>Runs an ioctl whose argument is an integer (passed in the pointer's register).</summary>
    public unsafe int Ioctl(uint request, int argument, string what) => Ioctl(request, (void*)(nint)argument, what);

    internal static byte[] NullTerminated(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, 0, text.Length, bytes, 0);
        return bytes;
    }
}
