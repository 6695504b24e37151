using DmPowerShell;
using DmPowerShell.Health;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Volumes;

// Usage: driver <state root> create <pool> <name> <bytes> | snapshot <pool> <origin> <name>... | remove <pool> <name> | revert <pool> <name> <snapshot>
//        | resize <pool> <name> <bytes> | pool-create <pool> <data bytes> <metadata bytes> | pool-enable <pool>
//        | pool-disable <pool> | pool-resize <pool> <data bytes> <metadata bytes> | pool-remove <pool>
//        | export <pool> <folder> | restore <pool> <folder> | repair <pool>
//        | bench-create <pool> <count> <bytes> | bench-snapshot <pool> <origin> <count> | bench-remove <pool> <count>
//          (the benchmark's "core" contender: the services without PowerShell; prints mean ms per
//          operation, mean ms inside libdevmapper calls, and libdevmapper calls per operation)
// Exit 0 on success, 1 with the error on stderr. DMPS_FAULT_STEP makes it kill itself mid-way.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: driver <state root> create|snapshot|remove <pool> <name> [...]");
    return 2;
}
var pools = new PoolService(new PoolRegistry(args[0]));
var volumes = new VolumeService(pools);
long Bytes(int i) => long.Parse(args[i], System.Globalization.CultureInfo.InvariantCulture);
var host = new SilentHost();
try
{
    switch (args[1])
    {
        case "create":
            volumes.Create(args[2], args[3], long.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture), null, activate: true, host);
            break;
        case "snapshot":
            volumes.Snapshot(args[2], args[3], args[4..], activate: true, readOnly: false, host);
            break;
        case "remove":
            volumes.Remove(args[2], args[3], host);
            break;
        case "revert":
            volumes.Restore(args[2], args[3], args[4], discard: false, keepAs: null, host);
            break;
        case "resize":
            volumes.Resize(args[2], args[3], Bytes(4), growFileSystem: false, host);
            break;
        case "pool-create":
            pools.Create(new PoolSpec { Name = args[2], DataSize = Bytes(3), MetadataSize = Bytes(4) }, host);
            break;
        case "pool-enable":
            pools.Enable(args[2], host);
            break;
        case "pool-disable":
            pools.Disable(args[2], deactivateVolumes: true, host);
            break;
        case "pool-resize":
            pools.Resize(args[2], Bytes(3), Bytes(4), host);
            break;
        case "pool-remove":
            pools.Remove(args[2], deactivateVolumes: true, deleteBackingFiles: false, host);
            break;
        case "bench-create":
        case "bench-snapshot":
        case "bench-remove":
        {
            var count = int.Parse(args[args[1] == "bench-snapshot" ? 4 : 3], System.Globalization.CultureInfo.InvariantCulture);
            Action<int> operation = args[1] switch
            {
                "bench-create" => i => volumes.Create(args[2], $"cc{i}", Bytes(4), null, activate: true, host),
                "bench-snapshot" => i => volumes.Snapshot(args[2], args[3], new[] { $"cs{i}" }, activate: true, readOnly: false, host),
                _ => i => volumes.Remove(args[2], i % 2 == 0 ? $"cc{i / 2}" : $"cs{i / 2}", host),
            };
            // The first operations pay for JIT compilation: untimed.
            var warm = Math.Min(20, count / 4);
            for (var i = 0; i < warm; i++) operation(i);
            var (kernelBefore, callsBefore) = DmPowerShell.Kernel.DeviceMapperClient.KernelCalls;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (var i = warm; i < count; i++) operation(i);
            var (kernelAfter, callsAfter) = DmPowerShell.Kernel.DeviceMapperClient.KernelCalls;
            var timed = count - warm;
            Console.WriteLine(FormattableString.Invariant($"{watch.Elapsed.TotalMilliseconds / timed:0.000} {(kernelAfter - kernelBefore).TotalMilliseconds / timed:0.000} {(double)(callsAfter - callsBefore) / timed:0.0}"));
            break;
        }
        case "export":
            new PoolBackupService(pools).Export(args[2], args[3], host);
            break;
        case "restore":
            new PoolBackupService(pools).Restore(args[2], args[3], host);
            break;
        case "repair":
            new PoolHealthService(pools).Repair(args[2], deleteUnrecorded: false, host);
            break;
        default:
            Console.Error.WriteLine($"unknown operation {args[1]}");
            return 2;
    }
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
    return 1;
}
