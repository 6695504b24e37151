using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using DmPowerShell.Interop;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Registry;

/// <summary>
/// An exclusive inter-process lock on a file (an open-file-description lock, so two threads of
/// one process exclude each other too). The holder writes its pid and command line into the
/// file, so that a waiter that gives up can say who holds it. The kernel drops the lock when
/// the holder dies: a killed process never leaves a stale lock.
/// </summary>
public sealed class FileLock : IDisposable
{
    private const int F_OFD_GETLK = 36, F_OFD_SETLK = 37;
    private const short F_WRLCK = 1, F_UNLCK = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct FLock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    private readonly FileDescriptor descriptor;

    private FileLock(FileDescriptor descriptor, string path)
    {
        this.descriptor = descriptor;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Takes the lock, waiting up to <paramref name="timeout"/>.</summary>
    public static FileLock Acquire(string path, TimeSpan timeout, string what)
    {
        var descriptor = FileDescriptor.Open(path, O_RDWR | O_CREAT, DurableFile.FileMode);
        try
        {
            var clock = Stopwatch.StartNew();
            var delay = 2;
            while (!TryLock(descriptor))
            {
                if (clock.Elapsed >= timeout)
                {
                    throw new LockTimeoutException(what, path, timeout, ReadHolder(path));
                }
                Thread.Sleep(delay);
                delay = Math.Min(delay * 2, 50);
            }
            WriteHolder(descriptor);
            return new FileLock(descriptor, path);
        }
        catch
        {
            descriptor.Dispose();
            throw;
        }
    }

    /// <summary>Takes the lock if nobody holds it; null when someone does.</summary>
    public static FileLock? TryAcquire(string path)
    {
        var descriptor = FileDescriptor.Open(path, O_RDWR | O_CREAT, DurableFile.FileMode);
        try
        {
            if (!TryLock(descriptor))
            {
                descriptor.Dispose();
                return null;
            }
            WriteHolder(descriptor);
            return new FileLock(descriptor, path);
        }
        catch
        {
            descriptor.Dispose();
            throw;
        }
    }

    /// <summary>Who holds the lock on <paramref name="path"/>, or null when nobody does (asks, never takes it).</summary>
    public static unsafe string? HolderOf(string path)
    {
        FileDescriptor descriptor;
        try
        {
            descriptor = FileDescriptor.Open(path, O_RDONLY);
        }
        catch (NativeCallException e) when (e.Errno == Errno.ENOENT)
        {
            return null;
        }
        using (descriptor)
        {
            var request = new FLock { Type = F_WRLCK, Whence = 0, Start = 0, Length = 0 };
            if (fcntl(descriptor.Fd, F_OFD_GETLK, &request) != 0)
            {
                throw new NativeCallException("fcntl(F_OFD_GETLK)", path, errno);
            }
            return request.Type == F_UNLCK ? null : ReadHolder(path);
        }
    }

    private static unsafe bool TryLock(FileDescriptor descriptor)
    {
        var request = new FLock { Type = F_WRLCK, Whence = 0, Start = 0, Length = 0 };
        if (fcntl(descriptor.Fd, F_OFD_SETLK, &request) == 0)
        {
            return true;
        }
        var error = errno;
        if (error is Errno.EAGAIN or Errno.EACCES)
        {
            return false;
        }
        throw new NativeCallException("fcntl(F_OFD_SETLK)", null, error);
    }

    private static unsafe void WriteHolder(FileDescriptor descriptor)
    {
        var text = Encoding.UTF8.GetBytes($"{Environment.ProcessId} {DateTime.UtcNow:O} {Environment.CommandLine}\n");
        ftruncate(descriptor.Fd, 0);
        fixed (byte* p = text)
        {
            pwrite(descriptor.Fd, p, text.Length, 0);
        }
    }

    private static string ReadHolder(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            var parts = text.Split(' ', 3);
            return parts.Length == 3 ? $"process {parts[0]} ({parts[2]}), holding it since {parts[1]}" : "an unknown process";
        }
        catch (IOException)
        {
            return "an unknown process";
        }
    }

    public void Dispose() => descriptor.Dispose(); // closing the description releases the lock
}
