#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, publishes and tests DmPowerShell.
.DESCRIPTION
    Tasks (run in the order given):
      Restore      dotnet tools (pwsh) and the PowerShell modules from NuGet (Pester)
      Build        compile, and publish the module folder out/DmPowerShell/<version>/
      Package      the module as a .nupkg in out/repository, a folder that works as a local
                   PSResourceGet repository (Register-PSResourceRepository -Uri out/repository)
      UnitTest     xunit unit tests on the host (tests/Unit)
      PesterUnit   Pester tests that need no kernel, on the host (tests/Pester/Unit)
      GuestTest    the kernel suites (tests/Kernel, tests/Pester/Kernel) in the QEMU guest, with
                   CI's representative part of the long matrices: sampled kill points and bad
                   inputs, 2 random kills, a 2 x 3 load, no test tagged FullOnly
      FullGuestTest the same suites whole (DMPS_MATRIX=full): every kill point and bad input, the
                   FullOnly tests, a 4 x 25 load, 40 random kills; then Summary
                   (both also boot a third guest for the systemd scenario, as SystemdTest)
      SystemdTest  tests/Pester/Systemd alone: a guest with systemd as PID 1 and udev, on a disk
                   that outlives its reboot; the module installed, units enabled, rebooted, checked
      Test         Build, Package, UnitTest, PesterUnit, GuestTest on Debian 12 and CI's part of
                   the Debian 13 lane (pools, volumes, usage, compare, streams, health, restore,
                   the soname and package checks), then Summary
    Every guest task takes -Guest Debian13: trixie's kernel (6.12) and a trixie root (thin tools
    1.1.0, LVM 2.03.31) instead of Debian 12's kernel and this host's root (docs/development.md).
      Summary      one line `N passed, N failed, N skipped` over every result file
      Reliability  the whole reliability matrix in the guest (every kill point, the bad-input
                   catalog, full pools, 4 x 25 load, repairs) and its table (out/results/reliability.csv);
                   GuestTest runs a sample of the kill points and bad inputs and a 2 x 3 load
      Benchmark    the module against the C floor, a dmsetup script and LVM2 in the guest, plus
                   Import-Module on the host: prints the table and the targets, writes
                   out/results/benchmark.csv and benchmark.json (-BenchmarkCount, default 200)
      PowerCut     the power-cut replay in the guest: the workload on ext4 over dm-log-writes,
                   every flush/FUA point of its log replayed, booted and checked, plus a
                   reordered window before each; prints the table (out/results/powercut.csv)
      Demo         a real pool, thin volume and status: on the host if it has device-mapper,
                   else in the guest
      Clean        remove out/ (the guest's kernel cache included)
.EXAMPLE
    ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    # One or more task names; "Build,UnitTest" works from `pwsh -File` too.
    [string[]] $Task = @('Build'),
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Seconds a guest may run before it is killed and counted as failed: GuestTest's two guests took
    # 474 and 500 s here (one two-vCPU guest took 1,819 s beside Reliability's); this is twice that.
    [int] $GuestTimeout = 3600,
    # GuestTest: run only these Pester kernel test files (and no xunit kernel tests), for a quick loop.
    [string[]] $KernelTestPath,
    # Benchmark: repetitions of each operation (LVM runs a quarter of them, at least 50 when this is 200).
    [int] $BenchmarkCount = 200,
    # Benchmark: the pool populations measured, e.g. "10,1000" (default: 10, 100, 1,000 and 10,000).
    [string] $BenchmarkLevels,
    # GuestTest with -KernelTestPath: also run the xunit kernel tests this filter selects (VSTest filter syntax,
    # e.g. 'FullyQualifiedName~PoolCrash').
    [string] $KernelTestFilter,
    # PowerCut: the workloads replayed (default both: Loop, then Direct), e.g. to re-run one after a fix.
    [ValidateSet('Loop', 'Direct')]
    [string[]] $PowerCutWorkload = @('Loop', 'Direct'),
    # The guest lane any guest task boots: Debian12 (Debian 12's kernel, 6.1, with this host's own
    # root: thin tools 0.9) or Debian13 (trixie's kernel, 6.12, and a trixie root: thin tools 1.1).
    # The Test task (CI) runs both: all of Debian 12's representative part, and Debian 13's.
    [ValidateSet('Debian12', 'Debian13')]
    [string] $Guest = 'Debian12'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$env:POWERSHELL_UPDATECHECK = 'Off'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

$knownTasks = 'Restore', 'Build', 'Package', 'UnitTest', 'PesterUnit', 'GuestTest', 'FullGuestTest', 'SystemdTest', 'Test', 'Summary', 'Reliability', 'Benchmark', 'PowerCut', 'Demo', 'Clean'
$Task = @($Task | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
foreach ($name in $Task) {
    if ($name -notin $knownTasks) { throw "Unknown task '$name'. Tasks: $($knownTasks -join ', ')." }
}

$Root = $PSScriptRoot
$script:Built = $false
# The whole matrices run far longer than CI's guest: their tasks get 3 hours unless told otherwise
# (FullGuestTest passed 2,400 s beside a second guest before its Pester part was done).
if (-not $PSBoundParameters.ContainsKey('GuestTimeout') -and ($Task | Where-Object { $_ -in 'FullGuestTest', 'Reliability', 'Benchmark', 'PowerCut' })) { $GuestTimeout = 10800 }
$Out = Join-Path $Root 'out'
$Results = Join-Path $Out 'results'
$Manifest = Import-PowerShellDataFile (Join-Path $Root 'DmPowerShell.psd1')
$Version = $Manifest.ModuleVersion
$ModuleFolder = Join-Path $Out "DmPowerShell/$Version"
$Packages = Join-Path $Out 'packages'
# The tool package's pwsh is IL only: the guest (TCG) spends most of each pwsh start in the JIT.
# Restore makes a ReadyToRun copy (as PowerShell's own releases are built); tests use it when there.
$ReadyToRunPwsh = Join-Path $Out "pwsh/$($PSVersionTable.PSVersion)"
$PwshDll = if (Test-Path (Join-Path $ReadyToRunPwsh 'ready')) { Join-Path $ReadyToRunPwsh 'pwsh.dll' } else { Join-Path $PSHOME 'pwsh.dll' }
$Bin = Join-Path $Out 'artifacts/bin'

function Invoke-Native {
    # Runs a program with an argument list (never a command string) and fails on a non-zero exit.
    param([string] $FilePath, [string[]] $ArgumentList, [switch] $AllowFailure)
    Write-Verbose "$FilePath $($ArgumentList -join ' ')"
    & $FilePath @ArgumentList | Out-Host
    if ($LASTEXITCODE -ne 0 -and -not $AllowFailure) {
        throw "$FilePath exited with $LASTEXITCODE"
    }
    $LASTEXITCODE
}

function Get-PesterManifest {
    $props = [xml](Get-Content -Raw (Join-Path $Root 'tools/Packages.csproj'))
    $pesterVersion = $props.Project.PropertyGroup.PesterVersion
    Join-Path $Packages "pester/$pesterVersion/tools/Pester.psd1"
}

function Invoke-Restore {
    Push-Location $Root
    try {
        $null = Invoke-Native dotnet @('tool', 'restore')
        $null = Invoke-Native dotnet @('restore', 'tools/Packages.csproj', "-p:RestorePackagesPath=$Packages", '--verbosity', 'quiet')
    }
    finally { Pop-Location }
    New-ReadyToRunPwsh
}

function Get-Crossgen {
    # crossgen2 of the running .NET's version, restored from NuGet on first use; $null without it.
    $runtime = [Environment]::Version.ToString()
    $crossgen = Join-Path $Packages "microsoft.netcore.app.crossgen2.linux-x64/$runtime/tools/crossgen2"
    if (-not (Test-Path $crossgen)) {
        Push-Location $Root
        try { $null = Invoke-Native dotnet @('restore', 'tools/Packages.csproj', "-p:RestorePackagesPath=$Packages", "-p:Crossgen2Version=$runtime", '--verbosity', 'quiet') -AllowFailure }
        finally { Pop-Location }
    }
    if (Test-Path $crossgen) { return $crossgen }
    Write-Warning "No crossgen2 ${runtime}: the assemblies stay IL only (the guest lane is slower)."
}

function Test-ReadyToRun([string] $Path) {
    # $true for an assembly already precompiled, $null for a file that is no .NET assembly.
    $stream = [IO.File]::OpenRead($Path)
    try {
        $reader = [Reflection.PortableExecutable.PEReader]::new($stream)
        if (-not $reader.HasMetadata) { return $null }
        $reader.PEHeaders.CorHeader.ManagedNativeHeaderDirectory.Size -gt 0
    }
    catch { $null }
    finally { $stream.Dispose() }
}

function Invoke-ReadyToRun {
    # Precompiles IL assemblies in place (the plain copy kept on failure), against the framework,
    # their own folder and -Reference folders. The guest (TCG) runs .NET ~25x slower than a host,
    # and without this most of a process's time there is the JIT: each pwsh, each driver started.
    param([string] $Crossgen, [IO.FileInfo[]] $Assembly, [string[]] $Reference = @())
    $framework = [Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory().TrimEnd('/')
    $todo = @($Assembly | Where-Object { (Test-ReadyToRun $_.FullName) -eq $false })
    $failed = $todo | ForEach-Object -ThrottleLimit ([Environment]::ProcessorCount) -Parallel {
        $output = "$($_.FullName).r2r"
        $references = @("$($using:framework)/*.dll", "$($_.DirectoryName)/*.dll") + @($using:Reference | ForEach-Object { "$_/*.dll" })
        # A response file: pwsh would expand the reference wildcards itself if passed as arguments.
        $response = "$($_.FullName).rsp"
        Set-Content $response (@($_.FullName, '-o', $output, '--targetos:linux', '--targetarch:x64', '-O') + ($references | ForEach-Object { '-r', $_ }))
        $log = & $using:Crossgen "@$response" 2>&1
        $code = $LASTEXITCODE
        Remove-Item $response
        if ($code -eq 0) { Move-Item -Force $output $_.FullName }
        else { Remove-Item $output -ErrorAction SilentlyContinue; "$($_.Name): $($log | Select-Object -Last 1)" }
    }
    foreach ($line in $failed) { Write-Verbose "crossgen2 left $line as IL" }
    $todo.Count
}

function New-ReadyToRunPwsh {
    # A copy of $PSHOME precompiled (as PowerShell's own releases are; the tool package is IL
    # only): in the guest pwsh then starts with half the time and CPU. Without crossgen2 the
    # plain pwsh is used and the lane is only slower.
    $stamp = "$($PSVersionTable.PSVersion) $([Environment]::Version)"
    if ((Get-Content (Join-Path $ReadyToRunPwsh 'ready') -ErrorAction SilentlyContinue) -eq $stamp) { return }
    $crossgen = Get-Crossgen
    if (-not $crossgen) { return }
    $started = [Diagnostics.Stopwatch]::StartNew()
    $work = "$ReadyToRunPwsh.partial"
    foreach ($folder in $work, $ReadyToRunPwsh) { if (Test-Path $folder) { Remove-Item -Recurse -Force $folder } }
    Copy-Item -Recurse $PSHOME $work
    # Roslyn (only Add-Type loads it) is left as IL: it is a third of the compile time.
    $count = Invoke-ReadyToRun $crossgen @(Get-ChildItem $work -Filter '*.dll' | Where-Object Name -notlike 'Microsoft.CodeAnalysis*')
    Set-Content (Join-Path $work 'ready') $stamp
    Move-Item $work $ReadyToRunPwsh
    $script:PwshDll = Join-Path $ReadyToRunPwsh 'pwsh.dll'
    Write-Host ("ReadyToRun pwsh in {0} ({1} assemblies, {2:N0} s)" -f $ReadyToRunPwsh, $count, $started.Elapsed.TotalSeconds)
}

function Invoke-ReadyToRunTests {
    # The kernel tests and the driver the crash tests start (one per kill), precompiled in place.
    $crossgen = Get-Crossgen
    if (-not $crossgen) { return }
    $configuration = $Configuration.ToLowerInvariant()
    $assemblies = foreach ($project in 'DmPowerShell.Tests.Kernel', 'DmPowerShell.Tests.Driver') {
        Get-ChildItem (Join-Path $Bin "$project/$configuration") -Filter '*.dll'
    }
    $count = Invoke-ReadyToRun $crossgen @($assemblies)
    if ($count) { Write-Host "ReadyToRun: $count test assemblies" }
}

function Invoke-Build {
    # Every task that runs the module builds it first; a second request in one run is free.
    if ($script:Built) { return }
    $script:Built = $true
    if (-not (Test-Path (Get-PesterManifest))) { Invoke-Restore } else { New-ReadyToRunPwsh }
    Push-Location $Root
    try {
        $null = Invoke-Native dotnet @('build', 'DmPowerShell.slnx', '-c', $Configuration, "-p:Version=$Version", '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    }
    finally { Pop-Location }
    Publish-Module
    Invoke-ReadyToRunTests
    Build-Floor
}

function Build-Floor {
    # The benchmark's C floor (libdevmapper calls only); the short benchmark in GuestTest runs it too.
    $null = New-Item -ItemType Directory -Force (Join-Path $Out 'benchmark')
    $null = Invoke-Native gcc @('-O2', '-Wall', '-Wextra', '-o', (Join-Path $Out 'benchmark/floor'), (Join-Path $Root 'benchmark/floor.c'), '-ldevmapper')
}

function Publish-Module {
    # The module folder: manifest, the DLLs flat beside it (Tmds.LibC included), formats, help.
    $built = Join-Path $Bin "DmPowerShell/$($Configuration.ToLowerInvariant())_linux-x64"
    if (Test-Path $ModuleFolder) { Remove-Item -Recurse -Force $ModuleFolder }
    $null = New-Item -ItemType Directory -Force $ModuleFolder 
    foreach ($name in 'DmPowerShell.dll', 'DmPowerShell.Core.dll', 'Tmds.LibC.dll') {
        Copy-Item (Join-Path $built $name) $ModuleFolder
    }
    # Precompiled (the module is linux-x64 only): Import-Module and each first call JIT less.
    $crossgen = Get-Crossgen
    if ($crossgen) { $null = Invoke-ReadyToRun $crossgen @(Get-ChildItem $ModuleFolder -Filter '*.dll') -Reference $PSHOME }
    Copy-Item (Join-Path $Root 'DmPowerShell.psd1'), (Join-Path $Root 'LICENSE') $ModuleFolder
    $formats = Join-Path $Root 'src/DmPowerShell/Commands/Formats'
    Get-ChildItem $formats -Filter '*.ps1xml' -ErrorAction SilentlyContinue | Copy-Item -Destination $ModuleFolder
    # Help: docs/help (PlatyPS's markdown schema) compiled into MAML by the project's own compiler.
    Import-Module (Join-Path $Root 'tools/help/HelpMarkdown.psm1') -Force
    $help = Join-Path $Out 'help/en-US'
    if (Test-Path $help) { Remove-Item -Recurse -Force $help }
    $null = ConvertTo-Maml -MarkdownFolder (Join-Path $Root 'docs/help') -OutputFolder $help -Module DmPowerShell
    Copy-Item -Recurse $help $ModuleFolder
    Write-Host "Published $ModuleFolder"
}

function Invoke-Package {
    $repository = Join-Path $Out 'repository'
    if (Test-Path $repository) { Remove-Item -Recurse -Force $repository }
    $null = New-Item -ItemType Directory -Force $repository
    Compress-PSResource -Path $ModuleFolder -DestinationPath $repository
    Write-Host "Packaged $((Get-ChildItem $repository -Filter *.nupkg).FullName)"
}

function Invoke-UnitTest {
    $null = New-Item -ItemType Directory -Force $Results 
    Push-Location $Root
    try {
        # A test project is a program (xunit's in-process runner): run it, no `dotnet test` around it.
        $unitDll = Join-Path $Bin "DmPowerShell.Tests.Unit/$($Configuration.ToLowerInvariant())/DmPowerShell.Tests.Unit.dll"
        $null = Invoke-Native dotnet @($unitDll, '-noLogo', '-noColor', '-result-trx', (Join-Path $Results 'unit.trx')) -AllowFailure
    }
    finally { Pop-Location }
}

function Invoke-PesterSuite {
    # One pwsh child per suite, so that the built module never loads into this build process.
    param([string] $Path, [string] $OutputFile, [string[]] $Tag, [string[]] $ExcludeTag)
    $arguments = @($PwshDll, '-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tests/Pester/Run-Pester.ps1'),
        '-PesterManifest', (Get-PesterManifest), '-ModuleManifest', (Join-Path $ModuleFolder 'DmPowerShell.psd1'),
        '-Path', $Path, '-OutputFile', $OutputFile)
    if ($Tag) { $arguments += @('-Tag', ($Tag -join ',')) }
    if ($ExcludeTag) { $arguments += @('-ExcludeTag', ($ExcludeTag -join ',')) }
    $null = Invoke-Native dotnet $arguments -AllowFailure
}

function Invoke-PesterUnit {
    $null = New-Item -ItemType Directory -Force $Results 
    Invoke-PesterSuite -Path (Join-Path $Root 'tests/Pester/Unit') -OutputFile (Join-Path $Results 'pester-unit.xml') -ExcludeTag Kernel
}

function New-GuestJob {
    # A job folder the guest mounts read-write at the same path; job.sh runs there as root.
    param([string] $Name, [string] $Body)
    $job = Join-Path $Out "guest-jobs/$Name"
    if (Test-Path $job) { Remove-Item -Recurse -Force $job }
    $null = New-Item -ItemType Directory -Force $job 
    $nugetRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
    $script = @"
#!/bin/bash
# Generated by build.ps1: runs inside the guest, in a chroot of the host's root.
set -u
export HOME=/tmp/home DOTNET_CLI_HOME=/tmp/home DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 POWERSHELL_UPDATECHECK=Off POWERSHELL_TELEMETRY_OPTOUT=1
export NUGET_PACKAGES='$nugetRoot' DMPS_STATE_ROOT=/tmp/dmps-state
mkdir -p "`$HOME" /tmp/dmps-state
cd '$Root'
# A heartbeat on the console: a long quiet test still shows the guest alive.
( while sleep 20; do echo "guest: alive"; done ) &
HEARTBEAT=`$!
trap 'kill `$HEARTBEAT 2>/dev/null' EXIT
JOB='$job'
PWSH_DLL='$PwshDll'
MODULE='$(Join-Path $ModuleFolder 'DmPowerShell.psd1')'
$Body
"@
    Set-Content -Path (Join-Path $job 'job.sh') -Value $script.Replace("`r", '') -NoNewline
    $job
}

function Invoke-Guest {
    param([string] $Job)
    Wait-Guest (Start-Guest -Job $Job)
}

function Get-GuestPesterCommand {
    # The bash line of a guest job that runs Pester (tests/Pester/Run-Pester.ps1) over the published
    # module; $Tag and $OutputFile may hold the job's shell variables. Outside the full matrix, tests
    # tagged FullOnly wait for -Task FullGuestTest.
    param([string] $Path, [string] $Tag, [string] $OutputFile, [switch] $Full)
    $exclude = if ($Full) { '' } else { ' -ExcludeTag FullOnly' }
    @"
dotnet "`$PWSH_DLL" -NoProfile -NonInteractive -File '$Root/tests/Pester/Run-Pester.ps1' -PesterManifest '$(Get-PesterManifest)' \
  -ModuleManifest "`$MODULE" -Path '$Path' -Tag $Tag$exclude -OutputFile "$OutputFile" 2>&1 || status=1
"@
}

function New-SuiteJob {
    # A guest job: the xunit kernel tests (all: '', a filter, or none: '-') and Pester kernel test paths.
    param([string] $JobName, [string] $Prefix, [string] $XunitFilter, [string[]] $PesterPath, [hashtable] $Environment = @{})
    $kernelDll = Join-Path $Bin "DmPowerShell.Tests.Kernel/$($Configuration.ToLowerInvariant())/DmPowerShell.Tests.Kernel.dll"
    $exports = ($Environment.GetEnumerator() | ForEach-Object { "export $($_.Key)='$($_.Value)'" }) -join "`n"
    $xunit = if ($XunitFilter -eq '-') { 'echo "guest: xunit kernel tests left out"' } else {
        $filter = if ($XunitFilter) { "-filterVSTest '$XunitFilter'" } else { '' }
        @"
echo "guest: xunit kernel tests"
started=`$SECONDS
dotnet '$kernelDll' $filter -noLogo -noColor -result-trx "`$JOB/results/$Prefix-xunit.trx" 2>&1 || status=1
echo "guest: xunit kernel tests took `$((SECONDS - started)) s"
"@ }
    $pester = @"
echo "guest: Pester kernel tests"
started=`$SECONDS
$(Get-GuestPesterCommand -Path ($PesterPath -join ',') -Tag Kernel -OutputFile "`$JOB/results/$Prefix-pester.xml" -Full:($Environment['DMPS_MATRIX'] -eq 'full'))
echo "guest: Pester kernel tests took `$((SECONDS - started)) s"
"@
    # Test processes run without tiered compilation: its call counting and background recompiles
    # patch code, which TCG pays dearly for (CI's guests 811 s with it, 500 s without, one run each).
    # The tests check behaviour, not the JIT; the Benchmark task keeps the runtime's defaults.
    $body = @"
status=0
mkdir -p "`$JOB/results"
export DOTNET_TieredCompilation=0
$exports
$xunit
$pester
exit `$status
"@
    New-GuestJob -Name $JobName -Body $body
}

function Save-GuestResults {
    param([string] $Job, [string] $Prefix)
    $null = New-Item -ItemType Directory -Force $Results
    Get-ChildItem (Join-Path $Results "$Prefix-*") -ErrorAction SilentlyContinue | Remove-Item -Force
    Get-ChildItem (Join-Path $Job 'results') -ErrorAction SilentlyContinue | Copy-Item -Destination $Results
    Copy-Item (Join-Path $Job 'console.log') (Join-Path $Results "$Prefix-console.log") -ErrorAction SilentlyContinue
}

function Invoke-GuestSuites {
    # One guest: its job, its boot, its results.
    param([string] $JobName, [string] $Prefix, [string] $XunitFilter, [string[]] $PesterPath, [hashtable] $Environment = @{})
    $job = New-SuiteJob @PSBoundParameters
    $code = Invoke-Guest $job
    Save-GuestResults $job $Prefix
    $code
}

function Start-Guest {
    # A guest started in the background (its own process); Wait-Guest returns its exit code.
    # -Cpus: its vCPUs (else DMPS_GUEST_CPUS or run.sh's default); -Label prefixes its console
    # lines, so two guests' output can be told apart. -Systemd: systemd as PID 1, on an overlay
    # root kept on the job's disk image across the guest's reboots (guest/init).
    # -Lane: the guest lane (default: -Guest).
    param([string] $Job, [int] $Cpus, [string] $Label, [switch] $Systemd, [string] $Lane = $Guest)
    $start = [Diagnostics.ProcessStartInfo]::new('bash')
    foreach ($argument in @((Join-Path $Root 'guest/run.sh'), $Job, "$GuestTimeout")) { $start.ArgumentList.Add($argument) }
    $start.Environment['DMPS_GUEST_LANE'] = $Lane.ToLowerInvariant()
    if ($Cpus) { $start.Environment['DMPS_GUEST_CPUS'] = "$Cpus" }
    if ($Label) { $start.Environment['DMPS_GUEST_LABEL'] = $Label }
    if ($Systemd) {
        # A sparse file: the overlay's upper layer (the guest's /etc, /var, the pool's files).
        $disk = Join-Path $Job 'disk.img'
        $null = Invoke-Native truncate @('-s', '8G', $disk)
        $null = Invoke-Native mkfs.ext4 @('-q', '-F', $disk)
        $start.Environment['DMPS_GUEST_INIT'] = 'systemd'
        $start.Environment['DMPS_GUEST_DISK'] = $disk
    }
    $start.UseShellExecute = $false
    [Diagnostics.Process]::Start($start)
}

function Wait-Guest {
    param([Diagnostics.Process] $Process)
    $Process.WaitForExit()
    $code = $Process.ExitCode
    switch ($code) {
        124 { Write-Warning "The guest timed out after $GuestTimeout s." }
        125 { Write-Warning 'The guest crashed or never started.' }
    }
    $code
}

# The kernel suites run in guests of one vCPU each, two at a time, so that the host's two cores
# each run one (README has the times). Each lane's first guest takes these files with the xunit
# kernel tests; its second every other file (a new file lands there); then the systemd guest and
# the other lane's guests, each on the first core to free. Each guest is its own kernel, so tests
# that compare all dm devices or loops before and after stay exact.
$FirstGuestFiles = 'BadInput.Tests.ps1', 'Benchmark.Tests.ps1', 'Contract.Tests.ps1', 'Docker.Tests.ps1', 'Health.Tests.ps1', 'Monitoring.Tests.ps1', 'PowerCut.Tests.ps1', 'Prometheus.Tests.ps1', 'Restore.Tests.ps1', 'Streams.Tests.ps1', 'ThinPool.Tests.ps1', 'Usage.Tests.ps1'
# What the Debian 13 lane does not run, and why: trixie's docker.io (26.1) has no devicemapper
# driver (Docker removed it in 25.0); containerd, Prometheus and sshd are not in its root (their
# tests are about the neighbours, whose Debian 12 versions the other lane runs).
$Debian13LeftOut = 'Docker.Tests.ps1', 'Containerd.Tests.ps1', 'Prometheus.Tests.ps1', 'Remoting.Tests.ps1'
# CI's part of the Debian 13 lane: what reads the thin tools' output or the kernel's status and
# messages, where tools 1.x and kernel 6.12 differ from Debian 12's.
$Debian13CiFiles = 'Distributions.Tests.ps1', 'Health.Tests.ps1', 'Streams.Tests.ps1', 'ThinPool.Tests.ps1', 'ThinVolume.Tests.ps1', 'Usage.Tests.ps1'
# In CI these run in the Debian 13 lane only (GuestTest and FullGuestTest run them in both lanes):
# their Debian 12 run would put CI over its 15 minutes (16.4 min measured with them in both).
# Pools and volumes, the core of every other file, run in both lanes in CI too.
$Debian13CiOnly = 'Distributions.Tests.ps1', 'Health.Tests.ps1', 'Streams.Tests.ps1', 'Usage.Tests.ps1'

function New-SystemdJob {
    # The systemd scenario (tests/Pester/Systemd): the guest boots twice; each boot runs this job
    # from its unit and the tests tagged for that boot. The first asks for the reboot when it passed.
    param([string] $Prefix = 'systemd', [switch] $Full)
    $body = @"
status=0
mkdir -p "`$JOB/results"
export DOTNET_TieredCompilation=0 DMPS_JOB="`$JOB" PWSH_DLL="`$PWSH_DLL"
# The units use the module's default state root (/var/lib/dmpowershell), so the tests do too.
unset DMPS_STATE_ROOT
boot=`$((`$(cat "`$JOB/boots" 2>/dev/null || echo 0) + 1))
echo "`$boot" > "`$JOB/boots"
case "`$boot" in 1) tag=FirstBoot ;; 2) tag=SecondBoot ;; *) echo "guest: boot `$boot: the scenario has two"; exit 1 ;; esac
echo "guest: systemd scenario, boot `$boot (`$tag)"
$(Get-GuestPesterCommand -Path "$Root/tests/Pester/Systemd" -Tag '"$tag"' -OutputFile "`$JOB/results/$Prefix-`$boot-pester.xml" -Full:$Full)
[ "`$boot" = 1 ] && [ "`$status" = 0 ] && touch "`$JOB/reboot-requested"
exit `$status
"@
    New-GuestJob -Name $Prefix -Body $body
}

function Invoke-SystemdTest {
    $null = New-Item -ItemType Directory -Force $Results
    $job = New-SystemdJob -Full
    $code = Wait-Guest (Start-Guest -Job $job -Systemd)
    Save-GuestResults $job 'systemd'
    Set-Content (Join-Path $Results 'guest-suites.txt') 'systemd-1-pester.xml', 'systemd-2-pester.xml'
    Set-Content (Join-Path $Results 'guest-exit-code') $code
}

function Get-GuestPlan {
    # The guests of one lane: @{ Prefix; Lane; Xunit; Paths; Systemd }. -Ci: the Test task's part
    # (Debian 12: all but $Debian13CiOnly; Debian 13: one guest of $Debian13CiFiles).
    param([string] $Lane, [switch] $Ci)
    $files = @(Get-ChildItem (Join-Path $Root 'tests/Pester/Kernel') -Filter '*.Tests.ps1')
    if ($Lane -eq 'Debian12') {
        if ($Ci) { $files = @($files | Where-Object Name -notin $Debian13CiOnly) }
        @{ Prefix = 'kernel-a'; Lane = $Lane; Systemd = $false; Xunit = ''; Paths = @($files | Where-Object Name -in $FirstGuestFiles).FullName }
        @{ Prefix = 'kernel-b'; Lane = $Lane; Systemd = $false; Xunit = '-'; Paths = @($files | Where-Object Name -notin $FirstGuestFiles).FullName }
        @{ Prefix = 'systemd'; Lane = $Lane; Systemd = $true; Xunit = '-'; Paths = @() }
        return
    }
    $files = @($files | Where-Object Name -notin $Debian13LeftOut)
    if ($Ci) {
        @{ Prefix = 'debian13-a'; Lane = $Lane; Systemd = $false; Xunit = '-'; Paths = @($files | Where-Object Name -in $Debian13CiFiles).FullName }
        return
    }
    @{ Prefix = 'debian13-a'; Lane = $Lane; Systemd = $false; Xunit = ''; Paths = @($files | Where-Object Name -in $FirstGuestFiles).FullName }
    @{ Prefix = 'debian13-b'; Lane = $Lane; Systemd = $false; Xunit = '-'; Paths = @($files | Where-Object Name -notin $FirstGuestFiles).FullName }
}

function Get-GuestResultFiles {
    # The result files a planned guest must leave (the summary counts a missing one as a failure).
    param([hashtable] $Plan)
    if ($Plan.Systemd) { return "$($Plan.Prefix)-1-pester.xml", "$($Plan.Prefix)-2-pester.xml" }
    if ($Plan.Xunit -ne '-') { "$($Plan.Prefix)-xunit.trx" }
    "$($Plan.Prefix)-pester.xml"
}

function Invoke-GuestTest {
    # The long matrices run a representative part here (-Task FullGuestTest and the Reliability
    # task run them whole). -KernelTestPath: one guest, those files (a quick loop).
    # -Lane: the lanes whose guests run (default: -Guest); -Ci: Debian 13's CI part only.
    # -WhileFirstGuestRuns: host work run after the first guest starts and before the second
    # (the host's unit tests in the Test task: they use the core the second guest would take).
    param([hashtable] $Environment = @{ DMPS_LOAD_PROCESSES = '2'; DMPS_LOAD_PER_PROCESS = '3'; DMPS_RANDOM_KILLS = '2' },
        [scriptblock] $WhileFirstGuestRuns, [string[]] $Lane = @($Guest), [switch] $Ci)
    $null = New-Item -ItemType Directory -Force $Results
    if ($KernelTestPath) {
        if ($WhileFirstGuestRuns) { & $WhileFirstGuestRuns }
        $paths = $KernelTestPath | ForEach-Object { $_ -split ',' } | ForEach-Object { (Resolve-Path $_).Path }
        $xunit = if ($KernelTestFilter) { $KernelTestFilter } else { '-' }
        $code = Invoke-GuestSuites -JobName 'kernel-tests' -Prefix 'kernel' -XunitFilter $xunit -PesterPath $paths -Environment $Environment
        # What the summary expects: the result files, and the guest's exit code (a guest that never
        # reported is a failure of its own).
        Set-Content (Join-Path $Results 'guest-suites.txt') @(if ($xunit -ne '-') { 'kernel-xunit.trx' }; 'kernel-pester.xml')
        Set-Content (Join-Path $Results 'guest-exit-code') $code
        return
    }
    $full = $Environment['DMPS_MATRIX'] -eq 'full'
    $plans = [Collections.Generic.Queue[hashtable]]::new()
    foreach ($name in $Lane) { foreach ($plan in Get-GuestPlan -Lane $name -Ci:$Ci) { $plans.Enqueue($plan) } }
    $expected = @(foreach ($plan in $plans) { Get-GuestResultFiles $plan })
    # The Debian 13 lane's kernel and root are built while the first guests run (mostly downloads
    # and unpacking), so that its guest starts at once when a core frees.
    $preparing = if ($Lane -contains 'Debian13' -and $Lane[0] -ne 'Debian13') {
        $start = [Diagnostics.ProcessStartInfo]::new('bash')
        $start.ArgumentList.Add((Join-Path $Root 'guest/prepare.sh'))
        $start.Environment['DMPS_GUEST_LANE'] = 'debian13'
        $start.ArgumentList.Add((Join-Path $Out 'guest-debian13'))
        $start.UseShellExecute = $false
        [Diagnostics.Process]::Start($start)
    }
    $running = [Collections.Generic.List[hashtable]]::new()
    $codes = [Collections.Generic.List[object]]::new()
    $started = 0
    while ($plans.Count -gt 0 -or $running.Count -gt 0) {
        while ($plans.Count -gt 0 -and $running.Count -lt 2) {
            $plan = $plans.Dequeue()
            $job = if ($plan.Systemd) { New-SystemdJob -Prefix $plan.Prefix -Full:$full } else {
                New-SuiteJob -JobName $plan.Prefix -Prefix $plan.Prefix -XunitFilter $plan.Xunit -PesterPath $plan.Paths -Environment $Environment }
            $running.Add(@{ Plan = $plan; Job = $job; Process = (Start-Guest -Job $job -Cpus 1 -Label $plan.Prefix -Systemd:$plan.Systemd -Lane $plan.Lane) })
            $started++
            if ($WhileFirstGuestRuns -and $started -eq 1) { & $WhileFirstGuestRuns }
        }
        Start-Sleep -Seconds 1
        foreach ($guest in @($running | Where-Object { $_.Process.HasExited })) {
            $codes.Add((Wait-Guest $guest.Process))
            Save-GuestResults $guest.Job $guest.Plan.Prefix
            $null = $running.Remove($guest)
        }
    }
    if ($preparing) { $preparing.WaitForExit() }
    Set-Content (Join-Path $Results 'guest-suites.txt') $expected
    Set-Content (Join-Path $Results 'guest-exit-code') $codes
}

function Invoke-Benchmark {
    # The guest runs benchmark/Invoke-Benchmark.ps1; the host adds Import-Module and prints the report.
    $null = New-Item -ItemType Directory -Force $Results
    $lvmCount = [math]::Max([math]::Min(50, $BenchmarkCount), [int]($BenchmarkCount / 4))
    $body = @"
mkdir -p "`$JOB/results"
export DMPS_MODULE_MANIFEST="`$MODULE"
dotnet "`$PWSH_DLL" -NoProfile -NonInteractive -File '$Root/benchmark/Invoke-Benchmark.ps1' -Count $BenchmarkCount -LvmCount $lvmCount $(if ($BenchmarkLevels) { "-Levels '$($BenchmarkLevels -replace '[^0-9,]', '')'" }) \
  -Floor '$(Join-Path $Out 'benchmark/floor')' -Driver '$(Join-Path $Bin "DmPowerShell.Tests.Driver/$($Configuration.ToLowerInvariant())/DmPowerShell.Tests.Driver.dll")' -OutputFile "`$JOB/results/benchmark-raw.json" 2>&1
"@
    $job = New-GuestJob -Name 'benchmark' -Body $body
    $code = Invoke-Guest $job
    Copy-Item (Join-Path $job 'console.log') (Join-Path $Results 'benchmark-console.log') -ErrorAction SilentlyContinue
    $raw = Join-Path $job 'results/benchmark-raw.json'
    if ($code -ne 0 -or -not (Test-Path $raw)) { throw "The benchmark failed in the guest (exit $code); see out/results/benchmark-console.log." }
    Import-Module (Join-Path $Root 'benchmark/BenchmarkReport.psm1') -Force
    $data = Get-Content -Raw $raw | ConvertFrom-Json
    $import = Measure-ModuleImport -PwshDll $PwshDll -Manifest (Join-Path $ModuleFolder 'DmPowerShell.psd1')
    $table = @(Get-BenchmarkTable $data.Results)
    $targets = @(Get-BenchmarkTargets $data.Results $import)
    Write-Host "Guest: $($data.Machine.Cpu), $($data.Machine.Cpus) vCPU (QEMU TCG), kernel $($data.Machine.Kernel), $($data.Machine.Memory); N = $BenchmarkCount (LVM $lvmCount)"
    $table | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
    Write-Host ("Host: Import-Module {0} ms above a bare pwsh start ({1} vs {2} ms); module memory: {3:N0} KiB GC heap, {4:N0} KiB working set" -f $import.ImportMs, $import.ImportedStartMs, $import.BareStartMs, ($import.HeapBytes / 1KB), ($import.WorkingSetBytes / 1KB))
    foreach ($row in @($data.SessionMemory)) {
        if ($row) { Write-Host ("Guest: the benchmark's pwsh session after Get-ThinVolume over {0} volumes: {1:N1} MiB GC heap, {2:N1} MiB resident" -f $row.Level, ($row.HeapBytes / 1MB), ($row.WorkingSetBytes / 1MB)) }
    }
    $targets | Format-Table -AutoSize -Wrap | Out-String -Width 250 | Write-Host
    $table | Export-Csv -NoTypeInformation (Join-Path $Results 'benchmark.csv')
    [pscustomobject]@{ Machine = $data.Machine; Count = $BenchmarkCount; LvmCount = $lvmCount; Import = $import; Table = $table; Targets = $targets } |
        ConvertTo-Json -Depth 5 | Set-Content (Join-Path $Results 'benchmark.json')
}

function Invoke-Reliability {
    # The whole reliability matrix in the guest, then its table (printed, and written as CSV).
    $code = Invoke-GuestSuites -JobName 'reliability' -Prefix 'reliability' -XunitFilter 'FullyQualifiedName~CrashConsistency|FullyQualifiedName~PoolCrash' `
        -PesterPath @("$Root/tests/Pester/Kernel/BadInput.Tests.ps1", "$Root/tests/Pester/Kernel/Reliability.Tests.ps1", "$Root/tests/Pester/Kernel/Health.Tests.ps1") `
        -Environment @{ DMPS_MATRIX = 'full'; DMPS_LOAD_PER_PROCESS = '25'; DMPS_RANDOM_KILLS = '40' }
    $rows = [System.Collections.Generic.List[object]]::new()
    $trx = Join-Path $Results 'reliability-xunit.trx'
    if (Test-Path $trx) {
        $counts = Get-TestCounts $trx
        $rows.Add([pscustomobject]@{ Area = 'Kill cases / recovered (every step of pool create, enable, disable, resize, remove, export, metadata repair, restore and volume create, snapshot, resize, remove; plus 40 random kills)'; Tried = $counts.Passed + $counts.Failed; Passed = $counts.Passed })
    }
    $junit = Join-Path $Results 'reliability-pester.xml'
    if (Test-Path $junit) {
        $xml = [xml](Get-Content -Raw $junit)
        $areas = [ordered]@{
            'BadInput.Tests.ps1'    = @('Bad inputs tried / typed with nothing changed', $null)
            'Full pools'            = @('Full-pool cases passed', 'Reliability.Tests.ps1')
            'Load'                  = @('Concurrent load cases (4 x 25 snapshots, 4 x 25 removals; passed = none lost or leaked)', 'Reliability.Tests.ps1')
            'Health.Tests.ps1'      = @('Test-/Repair-ThinPool cases passed', $null)
        }
        foreach ($key in $areas.Keys) {
            $cases = foreach ($suite in $xml.SelectNodes('//testsuite')) {
                $file = $areas[$key][1]
                if ($file) { if ($suite.name -like "*$file") { $suite.SelectNodes('testcase') | Where-Object { $_.name -like "$key.*" } } }
                elseif ($suite.name -like "*$key") { $suite.SelectNodes('testcase') }
            }
            $cases = @($cases)
            $failed = @($cases | Where-Object { $_.SelectSingleNode('failure|error') }).Count
            $rows.Add([pscustomobject]@{ Area = $areas[$key][0]; Tried = $cases.Count; Passed = $cases.Count - $failed })
        }
    }
    $rows | Format-Table -AutoSize -Wrap | Out-String -Width 250 | Write-Host
    $rows | Export-Csv -NoTypeInformation (Join-Path $Results 'reliability.csv')
    if ($code -ne 0 -or ($rows | Where-Object { $_.Passed -ne $_.Tried -or $_.Tried -eq 0 }) -or $rows.Count -lt 5) { throw "The reliability matrix failed (guest exit $code); see $Results/reliability-console.log" }
}

function Invoke-PowerCut {
    # The whole power-cut replay in the guest (every durable point of every operation, and a
    # reordered window before each), then its table (printed, and out/results/powercut.csv).
    $null = New-Item -ItemType Directory -Force $Results
    $assembly = Join-Path $Bin "DmPowerShell.Tests.PowerCut/$($Configuration.ToLowerInvariant())/DmPowerShell.Tests.PowerCut.dll"
    # The workloads one after the other in one guest: loop mode (everything on the logged disk)
    # and direct mode (only the registry logged; the pool's devices as the workload left them).
    $body = @"
mkdir -p "`$JOB/results"
export DMPS_MODULE_MANIFEST="`$MODULE" DOTNET_TieredCompilation=0
status=0
for mode in $($PowerCutWorkload -join ' '); do
  dotnet "`$PWSH_DLL" -NoProfile -NonInteractive -File '$Root/tests/PowerCut/Invoke-PowerCut.ps1' -Assembly '$assembly' -Mode `$mode -Reordered -OutputFile "`$JOB/results/powercut-`$mode.json" 2>&1 || status=1
done
exit `$status
"@
    $job = New-GuestJob -Name 'powercut' -Body $body
    $code = Invoke-Guest $job
    Copy-Item (Join-Path $job 'console.log') (Join-Path $Results 'powercut-console.log') -ErrorAction SilentlyContinue
    $raws = @(Get-ChildItem (Join-Path $job 'results') -Filter 'powercut-*.json' -ErrorAction SilentlyContinue)
    if ($raws.Count -lt $PowerCutWorkload.Count) { throw "The power-cut replay failed in the guest (exit $code); see out/results/powercut-console.log." }
    $runs = foreach ($raw in $raws) { Copy-Item $raw.FullName $Results; Get-Content -Raw $raw.FullName | ConvertFrom-Json }
    $images = @(foreach ($run in $runs) { foreach ($image in @($run.Results)) { $image | Add-Member -NotePropertyName Workload -NotePropertyValue $run.Workload -PassThru } })
    $rows = foreach ($group in $images | Group-Object Workload, { if ($_.Operation) { $_.Operation } else { '(between operations)' } }) {
        [pscustomobject]@{
            Workload = $group.Group[0].Workload; Operation = $group.Values[1]
            'Durable points' = @($group.Group | Where-Object Kind -ne 'reordered').Count
            Images = $group.Count
            Clean = @($group.Group | Where-Object Result -eq 'clean').Count
            Repaired = @($group.Group | Where-Object Result -eq 'repaired').Count
            Lost = @($group.Group | Where-Object Result -eq 'lost').Count
        }
    }
    $rows | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
    foreach ($image in $images | Where-Object Result -ne 'clean') { Write-Host ("  {0} #{1} {2} in {3}: {4} {5}" -f $image.Workload, $image.Index, $image.Kind, $image.Operation, $image.Result, $image.Detail) }
    foreach ($run in $runs) { Write-Host ("{0}: {1} images from {2} durable points in {3:N0} s" -f $run.Workload, @($run.Results).Count, @($run.Results | Where-Object Kind -ne 'reordered').Count, $run.Seconds) }
    $rows | Export-Csv -NoTypeInformation (Join-Path $Results 'powercut.csv')
    if ($code -ne 0 -or -not $images -or ($images | Where-Object Result -eq 'lost')) { throw "The power-cut replay found losses or failed (guest exit $code)." }
}

function Get-TestCounts {
    # Counts each test once, from TRX (xunit) and JUnit (Pester) files.
    param([string] $File)
    $xml = [xml](Get-Content -Raw $File)
    if ($File -like '*.trx') {
        $outcomes = @($xml.TestRun.Results.ChildNodes | Where-Object LocalName -eq 'UnitTestResult' | ForEach-Object outcome)
        return [pscustomobject]@{
            Passed  = @($outcomes | Where-Object { $_ -eq 'Passed' }).Count
            Failed  = @($outcomes | Where-Object { $_ -in 'Failed', 'Error', 'Timeout', 'Aborted' }).Count
            Skipped = @($outcomes | Where-Object { $_ -in 'NotExecuted', 'Inconclusive' }).Count
        }
    }
    $cases = @($xml.SelectNodes('//testcase'))
    $failed = @($cases | Where-Object { $_.SelectSingleNode('failure|error') }).Count
    $skipped = @($cases | Where-Object { $_.SelectSingleNode('skipped') }).Count
    [pscustomobject]@{ Passed = $cases.Count - $failed - $skipped; Failed = $failed; Skipped = $skipped }
}

function Invoke-Summary {
    # -GuestOnly: the guest tasks alone, which run no host suite.
    param([switch] $GuestOnly)
    $expected = if ($GuestOnly) { [ordered]@{} } else { [ordered]@{ 'unit.trx' = 'xunit unit (host)'; 'pester-unit.xml' = 'Pester unit (host)' } }
    $guestFiles = Get-Content (Join-Path $Results 'guest-suites.txt') -ErrorAction SilentlyContinue
    if (-not $guestFiles) { $guestFiles = 'kernel-xunit.trx', 'kernel-pester.xml' }
    foreach ($file in $guestFiles) {
        $lane = if ($file -like 'debian13-*') { 'Debian 13 guest' } else { 'guest' }
        $expected[$file] = if ($file -like '*.trx') { "xunit kernel ($lane)" } else { "Pester kernel ($lane)" }
    }
    $passed = 0; $failed = 0; $skipped = 0
    foreach ($file in $expected.Keys) {
        $path = Join-Path $Results $file
        if (-not (Test-Path $path)) {
            Write-Host ("{0,-34} no results: counted as 1 failure" -f $expected[$file])
            $failed++
            continue
        }
        $counts = Get-TestCounts $path
        $why = ''
        if ($file -like '*.xml') {
            # Pester: the counts of its result object (Run-Pester.ps1), which know what was discovered
            # and not run; a suite without them did not finish, whatever its JUnit file says.
            $pester = Get-Content -Raw "$path.counts.json" -ErrorAction SilentlyContinue | ConvertFrom-Json
            if (-not $pester) {
                Write-Host ("{0,-34} {1}: Pester did not finish (no counts): counted as 1 failure" -f $expected[$file], $file)
                $failed++
                continue
            }
            $counts = [pscustomobject]@{ Passed = $pester.Passed; Failed = $pester.Failed; Skipped = $pester.Skipped + $pester.NotRun }
            $why = " ({0} tagged FullOnly, {1} filtered by tag, {2} skipped by the test)" -f $pester.NotRunFullOnly, ($pester.NotRun - $pester.NotRunFullOnly), $pester.Skipped
            foreach ($broken in @($pester.FailedContainers) + @($pester.FailedBlocks)) {
                if (-not $broken) { continue }
                Write-Host ("{0,-34} {1}: failed outside a test: {2}: counted as 1 failure" -f $expected[$file], $file, $broken)
                $failed++
            }
        }
        Write-Host ("{0,-34} {1} passed, {2} failed, {3} skipped{4}" -f $expected[$file], $counts.Passed, $counts.Failed, $counts.Skipped, $why)
        if (($file -like 'kernel-*' -or $file -like 'debian13-*') -and $counts.Passed + $counts.Failed -eq 0) {
            Write-Host ("{0,-34} ran no test: counted as 1 failure" -f $expected[$file])
            $failed++
        }
        $passed += $counts.Passed; $failed += $counts.Failed; $skipped += $counts.Skipped
    }
    foreach ($code in Get-Content (Join-Path $Results 'guest-exit-code') -ErrorAction SilentlyContinue) {
        if ($code -in '124', '125') {
            Write-Host ("{0,-34} crashed or timed out: counted as 1 failure" -f 'guest')
            $failed++
        }
        elseif ($code -ne '0') {
            # A file that failed discovery or a failed BeforeAll/AfterAll is in no result file's counts.
            Write-Host ("{0,-34} the job exited with {1} (a test file or block failed outside the counted tests): counted as 1 failure" -f 'guest', $code)
            $failed++
        }
    }
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    $demo = Join-Path $Root 'tools/demo.ps1'
    if ((Test-Path /proc/misc) -and (Select-String -Quiet -Path /proc/misc -Pattern 'device-mapper')) {
        $null = Invoke-Native dotnet @($PwshDll, '-NoProfile', '-File', $demo, '-ModuleManifest', (Join-Path $ModuleFolder 'DmPowerShell.psd1'))
        return
    }
    Write-Host 'This kernel has no device-mapper: running the demo in the guest (a minute or two under emulation)...'
    # The demo's own output only: the guest's boot messages and heartbeat stay in console.log.
    $job = New-GuestJob -Name 'demo' -Body "dotnet `"`$PWSH_DLL`" -NoProfile -File '$demo' -ModuleManifest `"`$MODULE`" > `"`$JOB/demo.out`" 2>&1"
    $quiet = $env:DMPS_GUEST_QUIET
    $env:DMPS_GUEST_QUIET = '1'
    try { $code = Invoke-Guest $job }
    finally { $env:DMPS_GUEST_QUIET = $quiet }
    Get-Content (Join-Path $job 'demo.out') -ErrorAction SilentlyContinue | Out-Host
    if ($code -ne 0) { throw "The demo failed in the guest (exit $code); see $job/console.log" }
}

foreach ($step in $Task) {
    Write-Host "== $step" -ForegroundColor Cyan
    switch ($step) {
        'Restore' { Invoke-Restore }
        'Build' { Invoke-Build }
        'Package' { Invoke-Package }
        'UnitTest' { Invoke-UnitTest }
        'PesterUnit' { Invoke-PesterUnit }
        'GuestTest' { Invoke-Build; Invoke-GuestTest; Invoke-Summary -GuestOnly }
        'SystemdTest' { Invoke-Build; Invoke-SystemdTest; Invoke-Summary -GuestOnly }
        'FullGuestTest' { Invoke-Build; Invoke-GuestTest -Environment @{ DMPS_MATRIX = 'full'; DMPS_LOAD_PER_PROCESS = '25'; DMPS_RANDOM_KILLS = '40' }; Invoke-Summary -GuestOnly }
        'Test' {
            if (Test-Path $Results) { Remove-Item -Recurse -Force $Results }
            Invoke-Build
            Invoke-GuestTest -Lane Debian12, Debian13 -Ci -WhileFirstGuestRuns { Invoke-Package; Invoke-UnitTest; Invoke-PesterUnit }
            Invoke-Summary
        }
        'Summary' { Invoke-Summary }
        'Reliability' { Invoke-Build; Invoke-Reliability }
        'Benchmark' { Invoke-Build; Invoke-Benchmark }
        'Demo' { Invoke-Build; Invoke-Demo }
        'PowerCut' { Invoke-Build; Invoke-PowerCut }
        'Clean' { if (Test-Path $Out) { Remove-Item -Recurse -Force $Out } }
    }
}
