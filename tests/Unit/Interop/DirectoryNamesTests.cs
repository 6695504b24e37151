using DmPowerShell.Interop;

namespace DmPowerShell.Tests.Unit.Interop;

/// <summary>Folder names from getdents64, and a device's dm holders as sysfs lays them out (links named dm-&lt;minor&gt;).</summary>
public sealed class DirectoryNamesTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("dmps-names-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Names_come_without_their_links_being_followed_and_without_dot_entries()
    {
        File.WriteAllText(Path.Combine(root, "file"), "");
        Directory.CreateDirectory(Path.Combine(root, "folder"));
        foreach (var i in Enumerable.Range(0, 2000)) File.CreateSymbolicLink(Path.Combine(root, $"dm-{i}"), $"/nonexistent/dm-{i}");
        var names = DirectoryNames.Read(root)!;
        Assert.Equal(2002, names.Count);
        Assert.Contains("file", names);
        Assert.Contains("dm-1999", names);
        Assert.DoesNotContain(".", names);
        Assert.Null(DirectoryNames.Read(Path.Combine(root, "missing")));
    }

    [Fact]
    public void A_devices_holders_are_its_dm_links_under_the_same_major()
    {
        var holders = Path.Combine(root, "dev/block/254:0/holders");
        Directory.CreateDirectory(holders);
        File.CreateSymbolicLink(Path.Combine(holders, "dm-3"), "../../dm-3");
        File.CreateSymbolicLink(Path.Combine(holders, "dm-12"), "../../dm-12");
        File.CreateSymbolicLink(Path.Combine(holders, "md0"), "../../md0");
        var found = BlockHolders.DeviceMapperHoldersOf(new DeviceNumber(254, 0), root)!.Select(d => d.ToString()).Order().ToList();
        Assert.Equal(new[] { "254:12", "254:3" }, found);
        Assert.Null(BlockHolders.DeviceMapperHoldersOf(new DeviceNumber(254, 9), root));
    }
}
