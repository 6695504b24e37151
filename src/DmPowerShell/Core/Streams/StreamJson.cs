using System.Text.Json;

namespace DmPowerShell.Streams;

internal static class StreamJson
{
    public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
