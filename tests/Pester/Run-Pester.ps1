<#
.SYNOPSIS
    Runs one Pester suite in this process against the published module and writes JUnit XML.
    Used by build.ps1 on the host and by the guest job, so both run the suites the same way.
#>
param(
    [Parameter(Mandatory)] [string] $PesterManifest,
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $Path,
    [Parameter(Mandatory)] [string] $OutputFile,
    [string] $Tag,
    [string] $ExcludeTag
)
$ErrorActionPreference = 'Stop'
# Progress bars in a log are noise (and escape codes on a serial console).
$ProgressPreference = 'SilentlyContinue'
$PSStyle.OutputRendering = 'PlainText'
Import-Module $PesterManifest
$env:DMPS_MODULE_MANIFEST = $ModuleManifest

$configuration = New-PesterConfiguration
$configuration.Run.Path = @($Path -split ',')
$configuration.Run.Exit = $false
$configuration.Output.Verbosity = 'Detailed'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'JUnitXml'
$configuration.TestResult.OutputPath = $OutputFile
if ($Tag) { $configuration.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $configuration.Filter.ExcludeTag = $ExcludeTag -split ',' }
$configuration.Run.PassThru = $true
$result = Invoke-Pester -Configuration $configuration
exit [Math]::Min($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount, 255)
