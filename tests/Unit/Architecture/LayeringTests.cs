using System.Reflection;

namespace DmPowerShell.Tests.Unit.Architecture;

public sealed class LayeringTests
{
    [Fact]
    public void Core_references_no_PowerShell_assembly()
    {
        // The project file already leaves PowerShell out; this keeps a transitive reference out too.
        var core = typeof(DmPowerShell.Kernel.DeviceMapperClient).Assembly;
        var references = core.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain(references, name => name!.StartsWith("System.Management.Automation", StringComparison.Ordinal));
        Assert.DoesNotContain(references, name => name!.StartsWith("Microsoft.PowerShell", StringComparison.Ordinal));
    }

    [Fact]
    public void Cmdlets_live_only_in_the_commands_assembly()
    {
        var core = typeof(DmPowerShell.Kernel.DeviceMapperClient).Assembly;
        Assert.DoesNotContain(core.GetTypes(), t => t.Namespace?.StartsWith("DmPowerShell.Commands", StringComparison.Ordinal) == true);
        Assert.Equal("DmPowerShell", Assembly.Load("DmPowerShell").GetName().Name);
    }
}
