namespace DmPowerShell.Kernel;

/// <summary>What the module asked device-mapper to do when it failed.</summary>
public enum DmOperation
{
    Version, Create, Load, Suspend, Resume, Remove, Rename, Info, Status, Table, Message, List, Dependencies,
}
