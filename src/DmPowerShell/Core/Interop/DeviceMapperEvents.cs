using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Interop;

/// <summary>
/// Waits for device-mapper events on a control descriptor of its own (DM_DEV_ARM_POLL, then
/// poll(2)), so that a watcher never holds the serialised libdevmapper lock while it waits and
/// its own table reloads cannot deadlock it. An eventfd beside it makes a wait stop at once
/// when cancelled (Ctrl+C).
/// </summary>
public sealed unsafe class DeviceMapperEvents : IDisposable
{
    private const string ControlPath = "/dev/mapper/control";
    // linux/dm-ioctl.h: struct dm_ioctl is 312 bytes; DM_DEV_ARM_POLL is command 16 (kernel 4.13).
    private const int DmIoctlSize = 312;
    private const uint DmDevArmPoll = (3u << 30) | ((uint)DmIoctlSize << 16) | (0xfdu << 8) | 16;
    private const short PollIn = 0x1;

    private readonly FileDescriptor control;
    private readonly FileDescriptor wake;
    private int cancelled;

    private DeviceMapperEvents(FileDescriptor control, FileDescriptor wake)
    {
        this.control = control;
        this.wake = wake;
    }

    public static DeviceMapperEvents Open()
    {
        var control = FileDescriptor.Open(ControlPath, O_RDWR);
        var fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
        {
            var error = errno;
            control.Dispose();
            throw new NativeCallException("eventfd", null, error);
        }
        return new DeviceMapperEvents(control, FileDescriptor.Adopt(fd));
    }

    public bool IsCancelled => Volatile.Read(ref cancelled) != 0;

    /// <summary>
    /// Remembers the kernel's global event counter: the next <see cref="Wait"/> returns as soon as
    /// any device-mapper event after this call has happened (even one before the wait began).
    /// </summary>
    public void Arm()
    {
        var header = stackalloc byte[DmIoctlSize];
        new Span<byte>(header, DmIoctlSize).Clear();
        var words = (uint*)header;
        words[0] = 4; // interface version 4.37.0: the first with ARM_POLL
        words[1] = 37;
        words[2] = 0;
        words[3] = DmIoctlSize; // data_size
        words[4] = DmIoctlSize; // data_start
        control.Ioctl(DmDevArmPoll, header, "ioctl(DM_DEV_ARM_POLL)");
    }

    /// <summary>Waits up to <paramref name="timeout"/>; true when an event came, false on timeout or cancellation.</summary>
    public bool Wait(TimeSpan timeout)
    {
        var descriptors = stackalloc Tmds.Linux.pollfd[2];
        descriptors[0].fd = control.Fd;
        descriptors[0].events = PollIn;
        descriptors[1].fd = wake.Fd;
        descriptors[1].events = PollIn;
        var milliseconds = (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        int ready;
        do
        {
            ready = poll(descriptors, 2, milliseconds);
        }
        while (ready < 0 && errno == EINTR && !IsCancelled);
        if (ready < 0 && !IsCancelled)
        {
            throw new NativeCallException("poll", ControlPath, errno);
        }
        return ready > 0 && !IsCancelled && (descriptors[0].revents & PollIn) != 0;
    }

    /// <summary>Ends the current and every later wait; safe from any thread (StopProcessing).</summary>
    public void Cancel()
    {
        if (Interlocked.Exchange(ref cancelled, 1) == 0)
        {
            ulong one = 1;
            write(wake.Fd, &one, sizeof(ulong));
        }
    }

    public void Dispose()
    {
        control.Dispose();
        wake.Dispose();
    }
}
