using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Enable-ThinPool: activates recorded pools again (after a reboot or Disable-ThinPool).</summary>
[Cmdlet(VerbsLifecycle.Enable, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Name")]
[OutputType(typeof(ThinPool))]
public sealed class EnableThinPoolCommand : DmCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Name")]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Every pool in the registry (what the boot-time unit runs).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "All")]
    public SwitchParameter All { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var names = All ? Pools.List().Select(p => p.Name).ToArray() : Name;
        foreach (var name in names)
        {
            Try(name, () =>
            {
                if (Pools.Enable(name, OperationHost) is { } pool && PassThru)
                {
                    WriteObject(pool);
                }
            });
        }
    }
}
