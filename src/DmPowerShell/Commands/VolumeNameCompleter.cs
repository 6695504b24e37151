using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DmPowerShell.Registry;

namespace DmPowerShell.Commands;

/// <summary>Tab completion of volume names (for -Name and -Origin), within -Pool when it is given.</summary>
public sealed class VolumeNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var registry = new PoolRegistry(fakeBoundParameters["StateRoot"] as string);
            var pools = fakeBoundParameters["Pool"] is string pool ? new[] { pool } : registry.ListPools().Select(p => p.Name).ToArray();
            var prefix = wordToComplete.Trim('\'', '"');
            return pools.SelectMany(p => new VolumeStore(registry, p).List())
                .Where(v => v.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(v => v.Name).Distinct()
                .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n))
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DmPowerShellException)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}
