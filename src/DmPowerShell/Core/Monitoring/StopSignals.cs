using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Monitoring;

/// <summary>
/// Stops a watch on SIGTERM and SIGINT however pwsh was started: a non-interactive pwsh (as
/// systemd starts it: its own session, stdin on /dev/null) turns neither into Ctrl+C. The step
/// in progress finishes and the watch locks are released; then <see cref="Dispose"/> raises a
/// SIGTERM again, so the process ends as SIGTERM asked (systemd counts that a clean stop).
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly PosixSignalRegistration[] registrations;
    private int received;

    public StopSignals(Action stop)
    {
        registrations = new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT }.Select(signal => PosixSignalRegistration.Create(signal, context =>
        {
            // Cancelled: the runtime's default would end the process in the middle of a step.
            context.Cancel = true;
            Interlocked.CompareExchange(ref received, (int)context.Signal, 0);
            stop();
        })).ToArray();
    }

    /// <summary>The first stop signal received, if any.</summary>
    public PosixSignal? Received => received == 0 ? null : (PosixSignal)received;

    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        if (Received == PosixSignal.SIGTERM)
        {
            // The runtime's own handling of the signal (ProcessExit, then the default action) ends the process.
            kill(getpid(), SIGTERM);
        }
    }
}
