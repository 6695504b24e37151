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
# Pester's JUnit file holds only the tests that ran: what was discovered and not run (tag-filtered,
# FullOnly outside the full matrix) and what failed outside a test (a file's discovery, a
# BeforeAll) are in its result object alone. build.ps1's summary counts from this file.
$notRun = @($result.Tests | Where-Object Result -eq 'NotRun')
$counts = [ordered]@{
    Discovered       = $result.TotalCount
    Passed           = $result.PassedCount
    Failed           = $result.FailedCount
    Skipped          = $result.SkippedCount
    NotRun           = $result.NotRunCount
    NotRunFullOnly   = @($notRun | Where-Object { $_.Tag -contains 'FullOnly' }).Count
    # A file that failed itself (discovery, a top-level BeforeAll), not by a failed test in it.
    FailedContainers = @($result.Containers | Where-Object { $_.Result -eq 'Failed' -and @($_.ErrorRecord).Count -gt 0 } | ForEach-Object { [string]$_.Item })
    FailedBlocks     = @($result.FailedBlocks | ForEach-Object { $_.ExpandedPath })
}
$counts | ConvertTo-Json | Set-Content -LiteralPath "$OutputFile.counts.json"
exit [Math]::Min($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount, 255)
