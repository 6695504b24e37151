namespace DmPowerShell.Kernel;

/// <summary>Library and kernel driver versions.</summary>
public sealed record DeviceMapperVersion(string Library, string Driver);
