using DmPowerShell.Units;
using System.Diagnostics;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;

namespace DmPowerShell.Tests.Kernel;

/// <summary>
/// A thin pool on two sparse loop files, built with the core only, torn down after the test,
/// whose metadata must then pass thin_check. Only ever used inside the guest.
/// </summary>
public sealed class LoopPoolFixture : IDisposable
{
    public const uint BlockSectors = 128; // 64 KiB

    private readonly List<string> thinDevices = new();

    public LoopPoolFixture(ulong dataBytes = 256UL << 20, ulong metadataBytes = 8UL << 20)
    {
        KernelLane.RequireGuest();
        Client = DeviceMapperClient.Shared;
        Name = $"kt{Environment.ProcessId}x{Interlocked.Increment(ref counter)}-pool";
        Folder = Directory.CreateTempSubdirectory("dmps-kernel-").FullName;
        DataFile = Path.Combine(Folder, "data");
        MetadataFile = Path.Combine(Folder, "metadata");
        using (var data = File.Create(DataFile)) data.SetLength((long)dataBytes);
        using (var meta = File.Create(MetadataFile)) meta.SetLength((long)metadataBytes);
        using var dataLoop = LoopDevices.Attach(DataFile);
        using var metaLoop = LoopDevices.Attach(MetadataFile);
        DataLoop = dataLoop.Device;
        MetadataLoop = metaLoop.Device;
        Table = new ThinPoolTable
        {
            MetadataDevice = MetadataLoop.Device,
            DataDevice = DataLoop.Device,
            BlockSizeSectors = BlockSectors,
            LowWaterMarkBlocks = 16,
        };
        DataSectors = Sectors.FromBytes(dataBytes);
        Client.Create(Name, $"DMPS-TEST-{Guid.NewGuid():N}", new[] { Table.ToTarget(DataSectors) });
    }

    private static int counter;

    public DeviceMapperClient Client { get; }
    public string Name { get; }
    public string Folder { get; }
    public string DataFile { get; }
    public string MetadataFile { get; }
    public LoopDevice DataLoop { get; }
    public LoopDevice MetadataLoop { get; }
    public ThinPoolTable Table { get; }
    public ulong DataSectors { get; }
    public string PoolPath => $"/dev/mapper/{Name}";

    public ThinPoolStatus Status() => ThinPoolStatus.Parse(Client.GetStatus(Name).Single().Parameters);

    /// <summary>Creates and activates a thin device; removed again on dispose.</summary>
    public string CreateThin(uint id, ulong sizeBytes)
    {
        Client.SendMessage(Name, PoolMessage.CreateThin(new ThinId(id)));
        var name = $"{Name}-thin{id}";
        Client.Create(name, null, new[] { new ThinTable(PoolPath, new ThinId(id)).ToTarget(Sectors.FromBytes(sizeBytes)) });
        thinDevices.Add(name);
        return name;
    }

    public void Dispose()
    {
        foreach (var thin in thinDevices)
        {
            if (Client.GetInfo(thin) is not null) Client.Remove(thin);
        }
        if (Client.GetInfo(Name) is not null) Client.Remove(Name);
        // The loops auto-clear once the pool lets go of them; make sure before checking the file.
        foreach (var loop in new[] { DataLoop, MetadataLoop })
        {
            if (LoopDevices.FindByBackingFile(loop.BackingFile) is { } still) LoopDevices.Detach(still.Path);
        }
        var check = KernelLane.ThinCheck(MetadataFile);
        Directory.Delete(Folder, recursive: true);
        Assert.True(check.ExitCode == 0, $"thin_check failed ({check.ExitCode}): {check.Output}");
    }
}

/// <summary>Guards and helpers for tests that need the real kernel.</summary>
public static class KernelLane
{
    /// <summary>1 MiB of seeded random bytes at the start of a device: the same seed, the same data.</summary>
    public static void WritePattern(string device, int seed)
    {
        var data = new byte[1 << 20];
        new Random(seed).NextBytes(data);
        using var stream = new FileStream(device, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        stream.Write(data);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>SHA-256 of the first 1 MiB of a device.</summary>
    public static string Hash(string device)
    {
        using var stream = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var data = new byte[1 << 20];
        stream.ReadExactly(data);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data));
    }

    /// <summary>
    /// The long matrices run whole only when DMPS_MATRIX=full (the Reliability task); GuestTest,
    /// and so CI, runs the cases marked for its sample.
    /// </summary>
    public static bool FullMatrix => Environment.GetEnvironmentVariable("DMPS_MATRIX") == "full";

    /// <summary>The kill points to run: all of them in the full matrix, else the sample (each must be one of them).</summary>
    public static TheoryData<string, string> KillPoints((string Operation, string Step)[] all, (string Operation, string Step)[] sample)
    {
        if (sample.Except(all).Any()) throw new ArgumentException("a sampled kill point is not in the matrix", nameof(sample));
        var data = new TheoryData<string, string>();
        foreach (var (operation, step) in FullMatrix ? all : sample) data.Add(operation, step);
        return data;
    }

    /// <summary>
    /// Kernel tests run only in the guest (DMPS_GUEST=1). On a host they would find no driver,
    /// or worse, touch the host's own loop and dm devices: fail loudly instead.
    /// </summary>
    public static void RequireGuest()
    {
        if (Environment.GetEnvironmentVariable("DMPS_GUEST") != "1")
        {
            Assert.Fail("Kernel tests run only in the guest lane (./build.ps1 -Task GuestTest); DMPS_GUEST is not set.");
        }
        Assert.True(File.ReadAllText("/proc/misc").Contains("device-mapper"), "The guest kernel has no device-mapper driver.");
    }

    public static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    /// <summary>
    /// thin_check on a metadata file. It opens with O_DIRECT, which the guest's tmpfs refuses,
    /// so the file is checked through a read-only loop device over it.
    /// </summary>
    public static (int ExitCode, string Output) ThinCheck(string metadataFile)
    {
        using var loop = LoopDevices.Attach(metadataFile, readOnly: true);
        return Run("thin_check", loop.Device.Path);
    }

    /// <summary>
    /// Sets the needs_check flag in the superblock of pool metadata at rest, as the kernel does when
    /// it finds the metadata inconsistent: the pool then comes up read-only, reporting needs_check.
    /// The superblock (block 0) holds csum, flags, ...; csum is crc32c over bytes 4..4095, xor 160774.
    /// </summary>
    public static void SetNeedsCheck(string metadataFile)
    {
        using var stream = new FileStream(metadataFile, FileMode.Open, FileAccess.ReadWrite);
        var block = new byte[4096];
        stream.ReadExactly(block);
        Assert.True(BitConverter.ToUInt32(block, 0) == SuperblockChecksum(block), "the superblock checksum is not what the kernel computes");
        BitConverter.GetBytes(BitConverter.ToUInt32(block, 4) | 1).CopyTo(block, 4);
        BitConverter.GetBytes(SuperblockChecksum(block)).CopyTo(block, 0);
        stream.Position = 0;
        stream.Write(block);
        stream.Flush(flushToDisk: true);
    }

    private static uint SuperblockChecksum(byte[] block)
    {
        var crc = ~0u;
        foreach (var b in block.AsSpan(4))
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return crc ^ 160774u;
    }

    /// <summary>The number of SysV semaphore sets on the system.</summary>
    public static int SemaphoreSets() => File.ReadAllLines("/proc/sysvipc/sem").Length - 1;
}
