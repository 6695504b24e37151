using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DmPowerShell.Registry;

namespace DmPowerShell.Commands;

/// <summary>Tab completion of pool names from the registry (-StateRoot if already typed).</summary>
public sealed class PoolNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            var registry = new PoolRegistry(fakeBoundParameters["StateRoot"] as string);
            return registry.ListPools()
                .Where(p => p.Name.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
                .Select(p => new CompletionResult(p.Name, p.Name, CompletionResultType.ParameterValue, $"{p.Name} ({p.Backing})"))
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DmPowerShellException)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}
