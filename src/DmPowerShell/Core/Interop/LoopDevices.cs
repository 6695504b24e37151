using System.Runtime.InteropServices;
using System.Text;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Interop;

/// <summary>Loop devices through the kernel's ioctls (linux/loop.h), never through losetup.</summary>
public static unsafe class LoopDevices
{
    private const uint LOOP_SET_FD = 0x4C00, LOOP_CLR_FD = 0x4C01, LOOP_SET_STATUS64 = 0x4C04,
        LOOP_SET_CAPACITY = 0x4C07, LOOP_CONFIGURE = 0x4C0A, LOOP_CTL_GET_FREE = 0x4C82;
    private const uint LO_FLAGS_READ_ONLY = 1, LO_FLAGS_AUTOCLEAR = 4, LO_FLAGS_DIRECT_IO = 16;
    private const int LO_NAME_SIZE = 64;

    [StructLayout(LayoutKind.Sequential)]
    private struct LoopInfo64
    {
        public ulong Device, Inode, RDevice, Offset, SizeLimit;
        public uint Number, EncryptType, EncryptKeySize, Flags;
        public fixed byte FileName[LO_NAME_SIZE];
        public fixed byte CryptName[LO_NAME_SIZE];
        public fixed byte EncryptKey[32];
        public fixed ulong Init[2];
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct LoopConfig
    {
        public uint Fd, BlockSize;
        public LoopInfo64 Info;
        public fixed ulong Reserved[8];
    }

    /// <summary>
    /// Binds a free loop device to <paramref name="backingFile"/>. The device auto-clears: it
    /// detaches itself once nobody holds it, so a process killed before device-mapper took
    /// the device leaks no loop device.
    /// </summary>
    public static LoopAttachment Attach(string backingFile, bool readOnly = false)
    {
        var fullPath = System.IO.Path.GetFullPath(backingFile);
        using var file = FileDescriptor.Open(fullPath, readOnly ? O_RDONLY : O_RDWR);
        using var control = FileDescriptor.Open("/dev/loop-control", O_RDWR);
        // Another process can take the free device between GET_FREE and CONFIGURE: retry.
        for (var attempt = 0; ; attempt++)
        {
            var number = control.Ioctl(LOOP_CTL_GET_FREE, 0, "LOOP_CTL_GET_FREE");
            var path = $"/dev/loop{number}";
            var loop = OpenLoopNode(path, number, readOnly);
            try
            {
                Configure(loop, file, fullPath, readOnly);
            }
            catch (NativeCallException e) when (e.Errno == Errno.EBUSY && attempt < 20)
            {
                loop.Dispose();
                continue;
            }
            catch
            {
                loop.Dispose();
                throw;
            }
            return new LoopAttachment(new LoopDevice(path, number, BlockDevices.GetDeviceNumber(path), fullPath), loop);
        }
    }

    private static FileDescriptor OpenLoopNode(string path, int number, bool readOnly)
    {
        // Without udev nobody may have made the node yet; devtmpfs normally has it.
        for (var i = 0; ; i++)
        {
            try
            {
                return FileDescriptor.Open(path, readOnly ? O_RDONLY : O_RDWR);
            }
            catch (NativeCallException e) when (e.Errno == Errno.ENOENT && i < 50)
            {
                Thread.Sleep(10);
            }
        }
    }

    private static void Configure(FileDescriptor loop, FileDescriptor file, string fullPath, bool readOnly)
    {
        var config = new LoopConfig { Fd = (uint)file.Fd };
        config.Info.Flags = LO_FLAGS_AUTOCLEAR | (readOnly ? LO_FLAGS_READ_ONLY : 0);
        var name = Encoding.UTF8.GetBytes(fullPath);
        var length = Math.Min(name.Length, LO_NAME_SIZE - 1);
        for (var i = 0; i < length; i++)
        {
            config.Info.FileName[i] = name[i];
        }
        try
        {
            loop.Ioctl(LOOP_CONFIGURE, &config, "LOOP_CONFIGURE");
        }
        catch (NativeCallException e) when (e.Errno is Errno.EINVAL or Errno.ENOTTY)
        {
            // Kernels before 5.8 have no LOOP_CONFIGURE: the two-step form.
            loop.Ioctl(LOOP_SET_FD, file.Fd, "LOOP_SET_FD");
            try
            {
                loop.Ioctl(LOOP_SET_STATUS64, &config.Info, "LOOP_SET_STATUS64");
            }
            catch
            {
                loop.Ioctl(LOOP_CLR_FD, 0, "LOOP_CLR_FD");
                throw;
            }
        }
    }

    /// <summary>Makes the loop device see the new size of its backing file (losetup -c).</summary>
    public static void RefreshCapacity(string loopPath)
    {
        using var loop = FileDescriptor.Open(loopPath, O_RDONLY);
        loop.Ioctl(LOOP_SET_CAPACITY, 0, "LOOP_SET_CAPACITY");
    }

    /// <summary>Detaches a loop device; ENXIO (already free) is not an error.</summary>
    public static void Detach(string loopPath)
    {
        using var loop = FileDescriptor.Open(loopPath, O_RDONLY);
        try
        {
            loop.Ioctl(LOOP_CLR_FD, 0, "LOOP_CLR_FD");
        }
        catch (NativeCallException e) when (e.Errno == Errno.ENXIO)
        {
        }
    }

    /// <summary>Every bound loop device, from sysfs.</summary>
    public static IReadOnlyList<LoopDevice> List()
    {
        var result = new List<LoopDevice>();
        if (!Directory.Exists("/sys/block"))
        {
            return result;
        }
        foreach (var dir in Directory.EnumerateDirectories("/sys/block", "loop*"))
        {
            var backing = System.IO.Path.Combine(dir, "loop", "backing_file");
            var name = System.IO.Path.GetFileName(dir);
            if (!File.Exists(backing) || !int.TryParse(name.AsSpan(4), out var number))
            {
                continue;
            }
            string file;
            try
            {
                file = File.ReadAllText(backing).TrimEnd('\n');
            }
            catch (IOException)
            {
                continue; // detached while we looked
            }
            var dev = DeviceNumber.Parse(File.ReadAllText(System.IO.Path.Combine(dir, "dev")).Trim());
            result.Add(new LoopDevice($"/dev/{name}", number, dev, file));
        }
        return result;
    }

    /// <summary>The loop device bound to a file, if any.</summary>
    public static LoopDevice? FindByBackingFile(string backingFile)
    {
        var fullPath = System.IO.Path.GetFullPath(backingFile);
        return List().FirstOrDefault(l => l.BackingFile == fullPath);
    }
}
