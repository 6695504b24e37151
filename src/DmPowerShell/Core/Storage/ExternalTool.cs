using DmPowerShell.Host;
using System.Diagnostics;

namespace DmPowerShell.Storage;

/// <summary>Runs helper programs with an argument list, never a shell string.</summary>
public static class ExternalTool
{
    public static ToolResult Run(string program, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // In case libdevmapper opened its control descriptor again since the first call.
        Interop.InheritedDescriptors.ProtectControlDescriptors();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DmPowerShellException(ErrorIds.ToolMissing, ErrorKind.NotFound,
                $"The program '{program}' could not be started ({e.Message}). {HelperPackages.InstallAdvice(program, OsRelease.Current())}", program, e);
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(30)))
            {
                process.Kill(entireProcessTree: true);
                throw new DmPowerShellException(ErrorIds.ToolTimeout, ErrorKind.Timeout, $"{program} did not finish in time.", program);
            }
            process.WaitForExit();
            return new ToolResult(program, process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
