namespace DmPowerShell;

/// <summary>
/// Fault injection for the crash tests: with DMPS_FAULT_STEP=&lt;operation&gt;:&lt;step&gt; in the
/// environment (say snapshot:thin-created or pool-resize:table-loaded), the process kills itself
/// with SIGKILL at that step boundary, exactly as an outside kill would land there.
/// </summary>
internal static class FaultInjection
{
    private static readonly string? FaultStep = Environment.GetEnvironmentVariable("DMPS_FAULT_STEP");

    [ThreadStatic]
    private static string? operation;

    /// <summary>Names the operation whose steps follow (on this thread).</summary>
    public static void Begin(string name) => operation = name;

    public static void Step(string name)
    {
        if (FaultStep is not null && FaultStep == $"{operation}:{name}")
        {
            Tmds.Linux.LibC.kill(Tmds.Linux.LibC.getpid(), 9);
        }
    }
}
