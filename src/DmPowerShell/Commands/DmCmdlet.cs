using System.Management.Automation;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;

namespace DmPowerShell.Commands;

/// <summary>
/// What every DmPowerShell cmdlet shares: the state root, the services over it, the bridge that
/// hands ShouldProcess, verbose, warnings and progress to the core, and the mapping of the
/// core's typed exceptions to ErrorRecords with stable ids.
/// </summary>
public abstract class DmCmdlet : PSCmdlet
{
    /// <summary>The registry folder (default /var/lib/dmpowershell, or $env:DMPS_STATE_ROOT).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? StateRoot { get; set; }

    /// <summary>The registry of -StateRoot, else of the piped object, else the default.</summary>
    protected PoolRegistry Registry => new(StateRoot is not null ? GetUnresolvedProviderPathFromPSPath(StateRoot) : PipedStateRoot);

    /// <summary>The state root a piped pool or volume came from, so that it is found again there.</summary>
    protected virtual string? PipedStateRoot => null;

    protected PoolService Pools => new(Registry);

    protected Volumes.VolumeService Volumes => new(Pools) { OverrideHandover = OverrideHandover };

    /// <summary>Cmdlets with -Force that change thin ids: it also overrides the refusal of a pool handed to a container runtime.</summary>
    protected virtual bool OverrideHandover => false;

    protected IOperationHost OperationHost => new CmdletHost(this);

    /// <summary>Set by cmdlets whose -Force skips the extra confirmation before data is destroyed.</summary>
    protected bool SkipExtraConfirmation { get; set; }

    /// <summary>-Force skips the confirmation, unless -Confirm was asked for explicitly; the change itself is the same.</summary>
    protected void SkipConfirmationWhen(bool force)
    {
        if (force && !MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            SessionState.PSVariable.Set("ConfirmPreference", ConfirmImpact.None);
        }
    }

    /// <summary>Runs one unit of work; a failure becomes a non-terminating error for that item.</summary>
    protected void Try(object? target, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (IsExpected(e))
        {
            WriteError(ErrorMapping.ToErrorRecord(e, target));
        }
    }

    /// <summary>Runs work that nothing can proceed without; a failure stops the cmdlet.</summary>
    protected void TryOrStop(object? target, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (IsExpected(e))
        {
            ThrowTerminatingError(ErrorMapping.ToErrorRecord(e, target));
        }
    }

    private static bool IsExpected(Exception e) => ErrorIds.IsExpected(e);

    /// <summary>
    /// Whether ShouldProcess may show its text: -WhatIf, a -Confirm prompt (asked for, or the
    /// cmdlet's impact at or over $ConfirmPreference) or -Verbose, as parameters or preferences.
    /// When in doubt, yes.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, ConfirmImpact> Impacts = new();

    private bool MayShowPlan()
    {
        try
        {
            var bound = MyInvocation.BoundParameters;
            bool? Bound(string name) => bound.TryGetValue(name, out var value) ? LanguagePrimitives.IsTrue(value) : null;
            T Preference<T>(string name, T otherwise) =>
                LanguagePrimitives.TryConvertTo<T>(SessionState.PSVariable.GetValue(name), out var value) ? value : otherwise;
            if (Bound("WhatIf") ?? Preference("WhatIfPreference", true)) return true;
            if (Bound("Verbose") ?? Preference("VerbosePreference", ActionPreference.Continue) is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore)) return true;
            if (Bound("Confirm") is { } confirm) return confirm;
            var preference = Preference("ConfirmPreference", ConfirmImpact.Low);
            var impact = Impacts.GetOrAdd(GetType(), type => ((CmdletAttribute?)Attribute.GetCustomAttribute(type, typeof(CmdletAttribute)))?.ConfirmImpact ?? ConfirmImpact.High);
            return preference != ConfirmImpact.None && impact >= preference;
        }
        catch (Exception e) when (e is PSInvalidOperationException or InvalidCastException)
        {
            return true;
        }
    }

    /// <summary>The core's view of this cmdlet: ShouldProcess with the whole plan, and the output streams.</summary>
    private sealed class CmdletHost : IOperationHost
    {
        private readonly DmCmdlet cmdlet;

        public CmdletHost(DmCmdlet cmdlet) => this.cmdlet = cmdlet;

        public bool ShouldProcess(string target, string action, Func<string> describe)
        {
            if (!cmdlet.MayShowPlan())
            {
                // Nothing will be shown: the plan is not built (the change builds it once, under the lock).
                return cmdlet.ShouldProcess($"{action} {target}", $"{action} {target}?", action);
            }
            // -WhatIf prints the description: make it the full plan, line by line.
            var plan = describe();
            var description = $"{action} {target}:{Environment.NewLine}  {plan.Replace(Environment.NewLine, Environment.NewLine + "  ")}";
            return cmdlet.ShouldProcess(description, $"{action} {target}?{Environment.NewLine}{plan}", action);
        }

        public void Verbose(string message) => cmdlet.WriteVerbose(message);

        public bool Confirm(string query, string caption) => cmdlet.SkipExtraConfirmation || cmdlet.ShouldContinue(query, caption);

        public void Warning(string message) => cmdlet.WriteWarning(message);

        public void Progress(string activity, string status, int percent, bool completed = false)
        {
            var record = new ProgressRecord(Math.Abs(activity.GetHashCode()) % 100000, activity, status)
            {
                PercentComplete = Math.Clamp(percent, -1, 100),
                RecordType = completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            };
            cmdlet.WriteProgress(record);
        }
    }
}
