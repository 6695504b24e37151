using System.Security.Cryptography;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;

namespace DmPowerShell.Tests.Kernel;

[Trait("Category", "Kernel")]
public sealed class DeviceMapperClientTests
{
    [Fact]
    public void Reports_library_and_driver_versions()
    {
        KernelLane.RequireGuest();
        var version = DeviceMapperClient.Shared.GetVersion();
        Assert.StartsWith("1.02.", version.Library);
        Assert.StartsWith("4.", version.Driver);
    }

    [Fact]
    public void Thin_device_in_a_64k_pool_on_loop_files_reads_back_what_was_written()
    {
        var semaphoresBefore = KernelLane.SemaphoreSets();
        using (var pool = new LoopPoolFixture())
        {
            var fresh = pool.Status();
            Assert.Equal(TargetHealth.Ok, fresh.Health);
            Assert.Equal(0UL, fresh.TransactionId);
            Assert.Equal(0UL, fresh.UsedDataBlocks);
            Assert.Equal(pool.DataSectors / LoopPoolFixture.BlockSectors, fresh.TotalDataBlocks);
            Assert.Equal(PoolMode.ReadWrite, fresh.Mode);
            Assert.Equal(DiscardMode.Passdown, fresh.DiscardMode);
            Assert.Equal(NoSpacePolicy.Queue, fresh.NoSpacePolicy);
            Assert.False(fresh.NeedsCheck);

            var thin = pool.CreateThin(1, 64UL << 20);
            var path = $"/dev/mapper/{thin}";
            Assert.True(File.Exists(path), $"{path} should exist right after create (no udev in the guest)");

            var payload = RandomNumberGenerator.GetBytes(1 << 20);
            using (var device = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
            {
                device.Write(payload);
                device.Flush(flushToDisk: true);
            }
            var readBack = new byte[payload.Length];
            using (var device = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                device.ReadExactly(readBack);
            }
            Assert.Equal(payload, readBack);

            var used = pool.Status();
            Assert.Equal(16UL, used.UsedDataBlocks); // 1 MiB in 64 KiB blocks
            var thinStatus = ThinDeviceStatus.Parse(pool.Client.GetStatus(thin).Single().Parameters);
            Assert.Equal((ulong)payload.Length, thinStatus.MappedBytes);

            pool.Client.Remove(thin);
            Assert.False(File.Exists(path), $"{path} should be gone after remove");
        }
        Assert.Equal(semaphoresBefore, KernelLane.SemaphoreSets());
    }

    [Fact]
    public void Load_suspend_resume_table_info_list_and_messages_round_trip()
    {
        using var pool = new LoopPoolFixture();
        var client = pool.Client;

        var info = client.GetInfo(pool.Name)!;
        Assert.False(info.Suspended);
        Assert.True(info.LiveTable);
        Assert.StartsWith("DMPS-TEST-", info.Uuid);
        Assert.Contains(client.List(), d => d.Name == pool.Name && d.Device == info.Device);
        var deps = client.GetDependencies(pool.Name);
        Assert.Contains(pool.DataLoop.Device, deps);
        Assert.Contains(pool.MetadataLoop.Device, deps);

        var table = ThinPoolTable.Parse(client.GetTable(pool.Name).Single().Parameters);
        Assert.Equal(pool.Table, table);

        client.SendMessage(pool.Name, PoolMessage.CreateThin(new ThinId(7)));
        client.SendMessage(pool.Name, PoolMessage.CreateSnapshot(new ThinId(8), new ThinId(7)));
        client.SendMessage(pool.Name, PoolMessage.SetTransactionId(0, 2));
        Assert.Equal(2UL, pool.Status().TransactionId);

        var exists = Assert.Throws<DeviceExistsException>(() => client.SendMessage(pool.Name, PoolMessage.CreateThin(new ThinId(7))));
        Assert.Equal(Errno.EEXIST, exists.Errno);
        Assert.Equal(DmOperation.Message, exists.Operation);
        Assert.Equal("create_thin 7", exists.Detail);
        Assert.NotEmpty(DeviceMapperLog.Recent); // libdm's complaint went to our callback, not stderr

        var stale = Assert.ThrowsAny<DeviceMapperException>(() => client.SendMessage(pool.Name, PoolMessage.SetTransactionId(0, 3)));
        Assert.Equal(Errno.EINVAL, stale.Errno);

        client.SendMessage(pool.Name, PoolMessage.Delete(new ThinId(8)));
        client.SendMessage(pool.Name, PoolMessage.Delete(new ThinId(7)));

        // The guide's reload: grow the data file, LOOP_SET_CAPACITY, new length, suspend, resume.
        using (var data = File.OpenWrite(pool.DataFile)) data.SetLength(data.Length * 2);
        LoopDevices.RefreshCapacity(pool.DataLoop.Path);
        client.Load(pool.Name, new[] { pool.Table.ToTarget(pool.DataSectors * 2) });
        Assert.True(client.GetInfo(pool.Name)!.InactiveTable);
        client.Suspend(pool.Name);
        Assert.True(client.GetInfo(pool.Name)!.Suspended);
        client.Resume(pool.Name);
        Assert.False(client.GetInfo(pool.Name)!.Suspended);
        Assert.Equal(pool.DataSectors * 2, client.GetTable(pool.Name).Single().LengthSectors);
        Assert.Equal(pool.DataSectors * 2 / LoopPoolFixture.BlockSectors, pool.Status().TotalDataBlocks);
    }

    [Fact]
    public void Errors_name_the_operation_the_device_and_the_errno()
    {
        KernelLane.RequireGuest();
        var client = DeviceMapperClient.Shared;
        Assert.Null(client.GetInfo("dmps-no-such-device"));

        var missing = Assert.Throws<DeviceNotFoundException>(() => client.Remove("dmps-no-such-device"));
        Assert.Equal(Errno.ENXIO, missing.Errno);
        Assert.Equal(DmOperation.Remove, missing.Operation);
        Assert.Equal("dmps-no-such-device", missing.Device);

        var badTable = Assert.ThrowsAny<DeviceMapperException>(() =>
            client.Create("dmps-bad-table", null, new[] { new DmTarget(0, 100, "thin-pool", "1:1 1:1 100 0") }));
        Assert.Equal(DmOperation.Create, badTable.Operation);
        Assert.Contains("thin-pool", badTable.Detail);
        Assert.Null(client.GetInfo("dmps-bad-table")); // libdm removes a device whose table failed

        var semaphores = KernelLane.SemaphoreSets();
        client.Create("dmps-zero", null, new[] { new DmTarget(0, 2048, "zero", "") });
        var busy = new FileStream("/dev/mapper/dmps-zero", FileMode.Open, FileAccess.Read);
        var held = Assert.Throws<DeviceBusyException>(() => client.Remove("dmps-zero"));
        Assert.Equal(Errno.EBUSY, held.Errno);
        busy.Dispose();
        client.Remove("dmps-zero");
        Assert.Equal(semaphores, KernelLane.SemaphoreSets());
    }

    [Fact]
    public void Loop_capacity_follows_a_grown_backing_file()
    {
        KernelLane.RequireGuest();
        var file = Path.Combine(Directory.CreateTempSubdirectory("dmps-loop-").FullName, "backing");
        using (var stream = File.Create(file)) stream.SetLength(4 << 20);
        using var attached = LoopDevices.Attach(file);
        Assert.Equal(4UL << 20, BlockDevices.GetSize(attached.Device.Path));
        Assert.Equal(file, LoopDevices.FindByBackingFile(file)?.BackingFile);
        using (var stream = File.OpenWrite(file)) stream.SetLength(8 << 20);
        LoopDevices.RefreshCapacity(attached.Device.Path);
        Assert.Equal(8UL << 20, BlockDevices.GetSize(attached.Device.Path));
        LoopDevices.Detach(attached.Device.Path);
        attached.Dispose();
        Assert.Null(LoopDevices.FindByBackingFile(file));
    }
}
