using DmPowerShell;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Volumes;

// Usage: driver <state root> create <pool> <name> <bytes> | snapshot <pool> <origin> <name>... | remove <pool> <name>
// Exit 0 on success, 1 with the error on stderr. DMPS_FAULT_STEP makes it kill itself mid-way.
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: driver <state root> create|snapshot|remove <pool> <name> [...]");
    return 2;
}
var volumes = new VolumeService(new PoolService(new PoolRegistry(args[0])));
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
