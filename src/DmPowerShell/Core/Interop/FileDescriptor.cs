using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Interop;

/// <summary>A raw file descriptor opened with O_CLOEXEC, closed exactly once.</summary>
internal sealed partial class FileDescriptor : SafeHandle
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

    /// <summary>Writes every byte (write may take fewer than asked).</summary>
    public unsafe void WriteAll(ReadOnlySpan<byte> content, string path)
    {
        fixed (byte* start = content)
        {
            var done = 0;
            while (done < content.Length)
            {
                var written = write(Fd, start + done, content.Length - done);
                if (written < 0)
                {
                    if (errno == EINTR) continue;
                    throw new NativeCallException("write", path, errno);
                }
                done += (int)written;
            }
        }
    }

    /// <summary>A whole file's bytes, or null when the file (or its folder) does not exist.</summary>
    public static unsafe byte[]? ReadAllIfExists(string path)
    {
        FileDescriptor file;
        try
        {
            file = Open(path, O_RDONLY);
        }
        catch (NativeCallException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return null;
        }
        using (file)
        {
            stat status;
            if (fstat(file.Fd, &status) != 0)
            {
                throw new NativeCallException("fstat", path, errno);
            }
            // One byte more than its size: a read that fills it means the file grew; read on.
            var buffer = new byte[Math.Max(0, (long)status.st_size) + 1];
            var length = 0;
            while (true)
            {
                if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                long read;
                fixed (byte* start = buffer)
                {
                    read = LibC.read(file.Fd, start + length, buffer.Length - length);
                }
                if (read < 0)
                {
                    if (errno == EINTR) continue;
                    throw new NativeCallException("read", path, errno);
                }
                if (read == 0) return buffer.AsSpan(0, length).ToArray();
                length += (int)read;
            }
        }
    }

    /// <summary>rename(2): atomically replaces <paramref name="to"/>.</summary>
    public static unsafe void Rename(string from, string to)
    {
        fixed (byte* f = NullTerminated(from))
        fixed (byte* t = NullTerminated(to))
        {
            if (rename(f, t) != 0)
            {
                throw new NativeCallException("rename", to, Marshal.GetLastPInvokeError());
            }
        }
    }

    // Tmds.LibC has no rename.
    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int rename(byte* from, byte* to);

    /// <summary>symlink(2); false when <paramref name="path"/> already exists.</summary>
    public static unsafe bool TrySymlink(string target, string path)
    {
        fixed (byte* t = NullTerminated(target))
        fixed (byte* p = NullTerminated(path))
        {
            if (symlink(t, p) == 0) return true;
            var error = errno;
            if (error == Errno.EEXIST) return false;
            throw new NativeCallException("symlink", path, error);
        }
    }

    /// <summary>unlink(2); false when there was nothing to remove.</summary>
    public static unsafe bool Unlink(string path)
    {
        fixed (byte* p = NullTerminated(path))
        {
            if (unlink(p) == 0) return true;
            var error = errno;
            if (error is Errno.ENOENT or Errno.ENOTDIR) return false;
            throw new NativeCallException("unlink", path, error);
        }
    }

    /// <summary>A symbolic link's target, or null when <paramref name="path"/> is missing or no link (one readlink).</summary>
    public static unsafe string? ReadLink(string path)
    {
        var buffer = stackalloc byte[256];
        fixed (byte* p = NullTerminated(path))
        {
            var length = readlink(p, buffer, 256);
            return length < 0 || length >= 256 ? null : Encoding.UTF8.GetString(buffer, (int)length);
        }
    }

    internal static byte[] NullTerminated(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, 0, text.Length, bytes, 0);
        return bytes;
    }
}
