<#
.SYNOPSIS
    The benchmark, run in the guest: one pool on sparse loop files, the same operations done by the
    module (in this pwsh session), by the C floor (libdevmapper calls only), by a dmsetup script,
    and by LVM2 on a pool of its own. Writes one JSON document of results; build.ps1 -Task
    Benchmark turns it into the table with the ratios.
#>
param(
    # Repetitions of each single operation (the module, the floor, dmsetup).
    [int] $Count = 200,
    # Repetitions for LVM, which is slower.
    [int] $LvmCount = 50,
    # Pool populations (volumes in the pool) at which operations and listings are measured, comma-separated
    # (a string: `pwsh -File` passes no arrays).
    [string] $Levels = '10,100,1000,10000',
    # LVM is measured up to this population.
    [int] $LvmMaxLevel = 100,
    # Snapshots in one call, for the per-snapshot cost of a bulk snapshot (each size measured).
    [int[]] $Bulk = @(20, 100),
    # Warm-up rounds before measuring (the short version in the test suite needs only a few).
    [int] $WarmUp = 30,
    # The volume the stream rows copy: this many MiB, all written; the incremental stream carries 1 % of it.
    [int] $StreamMiB = 256,
    [Parameter(Mandatory)] [string] $Floor,
    # The test driver (tests/Driver): the core services without PowerShell, the "core" contender.
    [Parameter(Mandatory)] [string] $Driver,
    [Parameter(Mandatory)] [string] $OutputFile
)
$ErrorActionPreference = 'Stop'
# Measured as scripts run them: no progress bars (drawing them is a cost of the terminal, not of the work).
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 3.0
Import-Module $env:DMPS_MODULE_MANIFEST
$dmsetupScript = Join-Path $PSScriptRoot 'dmsetup.sh'
$lvmScript = Join-Path $PSScriptRoot 'lvm.sh'
$work = Join-Path ([IO.Path]::GetTempPath()) "dmps-bench-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
New-Item -ItemType Directory $work | Out-Null
$env:DMPS_STATE_ROOT = Join-Path $work 'state'
$results = [Collections.Generic.List[object]]::new()
$memory = [Collections.Generic.List[object]]::new()

function Add-Result([string] $Contender, [string] $Operation, [int] $Level, [double] $Milliseconds, [int] $Count, $KernelMs = $null, $KernelCalls = $null, $Syncs = $null) {
    $results.Add([pscustomobject]@{ Contender = $Contender; Operation = $Operation; Level = $Level; Milliseconds = [math]::Round($Milliseconds, 3); Count = $Count
            KernelMs = if ($null -ne $KernelMs) { [math]::Round($KernelMs, 3) }; KernelCalls = $KernelCalls; Syncs = $Syncs })
    $split = if ($null -ne $KernelMs) { "  ({0:N2} ms in {1} libdevmapper calls{2})" -f $KernelMs, $KernelCalls, $(if ($null -ne $Syncs) { ", $Syncs registry fsyncs" }) } else { '' }
    Write-Host ("  {0,-8} {1,-22} {2,5} volumes  {3,10:N2} ms  (n={4}){5}" -f $Contender, $Operation, $Level, $Milliseconds, $Count, $split)
}

# The module, in this session: the mean, and the share of it spent inside libdevmapper's calls.
function Measure-Module([string] $Operation, [int] $Level, [int] $Repeat, [scriptblock] $Body) {
    $before = [DmPowerShell.Kernel.DeviceMapperClient]::KernelCalls
    $syncsBefore = [DmPowerShell.Registry.DurableFile]::Syncs
    $ms = Measure-Mean $Repeat $Body
    $after = [DmPowerShell.Kernel.DeviceMapperClient]::KernelCalls
    $syncs = [math]::Round(([DmPowerShell.Registry.DurableFile]::Syncs - $syncsBefore) / $Repeat, 1)
    Add-Result 'module' $Operation $Level $ms $Repeat (($after.Item1 - $before.Item1).TotalMilliseconds / $Repeat) ([math]::Round(($after.Item2 - $before.Item2) / $Repeat, 1)) $syncs
}

# The core services without PowerShell (the test driver, one process per operation kind).
function Measure-Core([string] $Operation, [int] $Level, [int] $Repeat, [string[]] $Arguments) {
    $output = & dotnet $Driver $env:DMPS_STATE_ROOT @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "driver $($Arguments -join ' ') exited with ${LASTEXITCODE}: $output" }
    $ms, $kernel, $calls = "$(@($output)[-1])".Trim() -split ' '
    Add-Result 'core' $Operation $Level ([double]$ms) $Repeat ([double]$kernel) ([double]$calls)
}

# Mean milliseconds of $Body over $Repeat runs, timed in this session; output is discarded unformatted.
function Measure-Mean([int] $Repeat, [scriptblock] $Body) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $Repeat; $i++) { $null = & $Body $i }
    $watch.Elapsed.TotalMilliseconds / $Repeat
}

# Runs a contender's program; returns its last line (the mean milliseconds it measured).
function Invoke-Native([string] $Program, [string[]] $Arguments) {
    $output = & $Program @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$Program $($Arguments -join ' ') exited with ${LASTEXITCODE}: $output" }
    [double]"$(@($output)[-1])"
}

function Invoke-Quiet([string] $Program, [string[]] $Arguments) {
    $output = & $Program @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$Program $($Arguments -join ' ') exited with ${LASTEXITCODE}: $output" }
}

$lvmDevice = $null
$metadataClean = $false
try {
    $pool = New-ThinPool -Name bench -DataSize 1GB -MetadataSize 64MB -MinimumFreeSpacePercent 0
    $poolDevice = $pool.Device
    $origin = New-ThinVolume -Pool bench -Name origin -Size 16MB
    $originSectors = 16MB / 512
    # Warm-up: the first calls of a .NET session pay for JIT compilation (and tiering to optimised code), which is not the steady cost.
    1..$WarmUp | ForEach-Object { $null = New-ThinVolume -Pool bench -Name "warm$_" -Size 16MB; $null = New-ThinSnapshot -Pool bench -Origin origin -Name "warms$_"; $null = Get-PoolStatus bench; $null = Get-ThinVolume -Pool bench }
    Get-ThinVolume -Pool bench -Name 'warm*' | Remove-ThinVolume -Force -Confirm:$false
    $population = 1
    $floorId = 1000000; $scriptId = 2000000
    foreach ($level in [int[]]($Levels -split ',')) {
        Write-Host "Level $level"
        # Fill the pool up to the level with active snapshots of the origin, in calls of at most 200 names.
        $missing = $level - $population
        for ($done = 0; $done -lt $missing; $done += 200) {
            $names = @(($done + 1)..([math]::Min($missing, $done + 200)) | ForEach-Object { "l$level-$_" })
            $ms = Measure-Mean 1 { New-ThinSnapshot -Pool bench -Origin origin -Name $names }
            if ($done -eq 0) { Add-Result 'module' 'snapshot (bulk, each)' $level ($ms / $names.Count) $names.Count }
        }
        $population = $level

        $n = $Count
        Measure-Module 'create+activate' $level $n { param($i) New-ThinVolume -Pool bench -Name "c$i" -Size 16MB }
        Measure-Module 'snapshot+activate' $level $n { param($i) New-ThinSnapshot -Pool bench -Origin origin -Name "s$i" }
        Measure-Module 'deactivate+remove' $level $n { param($i) Remove-ThinVolume -Pool bench -Name "c$i" -Force -Confirm:$false }
        Get-ThinVolume -Pool bench -Name 's*' | Remove-ThinVolume -Force -Confirm:$false
        Measure-Core 'create+activate' $level $n @('bench-create', 'bench', $n, 16MB)
        Measure-Core 'snapshot+activate' $level $n @('bench-snapshot', 'bench', 'origin', $n)
        Measure-Core 'deactivate+remove' $level (2 * $n) @('bench-remove', 'bench', (2 * $n))
        foreach ($size in $Bulk) {
            $bulkNames = 1..$size | ForEach-Object { "b$_" }
            Measure-Module "snapshot x$size" $level 1 { New-ThinSnapshot -Pool bench -Origin origin -Name $bulkNames }
            $results[-1].Operation = "snapshot x$size (each)"; $results[-1].Milliseconds = [math]::Round($results[-1].Milliseconds / $size, 3); $results[-1].KernelMs = [math]::Round($results[-1].KernelMs / $size, 3); $results[-1].KernelCalls = [math]::Round($results[-1].KernelCalls / $size, 1); $results[-1].Count = $size
            Get-ThinVolume -Pool bench -Name 'b*' | Remove-ThinVolume -Force -Confirm:$false
        }
        # Queries: 20 repetitions (5 of a whole listing), fewer in the short version.
        $queries = [math]::Min(20, $Count); $listings = [math]::Min(5, $Count)
        Measure-Module 'Get-PoolStatus' $level $queries { Get-PoolStatus bench }
        Measure-Module 'Get-ThinVolume (one, by name)' $level $queries { Get-ThinVolume -Pool bench -Name origin }
        Measure-Module 'Get-ThinVolume (all)' $level $listings { Get-ThinVolume -Pool bench }
        # The session's memory after listing every volume (a full collection first): managed heap and resident set.
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); $process = [Diagnostics.Process]::GetCurrentProcess()
        $memory.Add([pscustomobject]@{ Level = $level; HeapBytes = [GC]::GetTotalMemory($true); WorkingSetBytes = $process.WorkingSet64 })

        Add-Result 'floor' 'create+activate' $level (Invoke-Native $Floor @('bench', $poolDevice, 'create', $n, $floorId, $originSectors)) $n
        Add-Result 'floor' 'snapshot+activate' $level (Invoke-Native $Floor @('bench', $poolDevice, 'snapshot', $n, ($floorId + $n), $origin.ThinId, $origin.DeviceName)) $n
        Add-Result 'floor' "snapshot x$($Bulk[0]) (each)" $level (Invoke-Native $Floor @('bench', $poolDevice, 'snapshot', $Bulk[0], ($floorId + 2 * $n), $origin.ThinId, $origin.DeviceName, $Bulk[0])) $Bulk[0]
        Add-Result 'floor' 'deactivate+remove' $level (Invoke-Native $Floor @('bench', $poolDevice, 'remove', (2 * $n + $Bulk[0]), $floorId)) (2 * $n + $Bulk[0])
        # The minimal floor: messages and devices only, no transaction id (what dmsetup must do; not crash-safe).
        Add-Result 'minimal' 'create+activate' $level (Invoke-Native $Floor @('bench', $poolDevice, 'create-minimal', $n, $floorId, $originSectors)) $n
        Add-Result 'minimal' 'snapshot+activate' $level (Invoke-Native $Floor @('bench', $poolDevice, 'snapshot-minimal', $n, ($floorId + $n), $origin.ThinId, $origin.DeviceName)) $n
        $null = Invoke-Native $Floor @('bench', $poolDevice, 'remove', (2 * $n), $floorId)
        $floorId += 10000

        Add-Result 'dmsetup' 'create+activate' $level (Invoke-Native bash @($dmsetupScript, 'bench', $poolDevice, 'create', $n, $scriptId, $originSectors)) $n
        Add-Result 'dmsetup' 'snapshot+activate' $level (Invoke-Native bash @($dmsetupScript, 'bench', $poolDevice, 'snapshot', $n, ($scriptId + $n), $origin.ThinId, $origin.DeviceName)) $n
        Add-Result 'dmsetup' 'deactivate+remove' $level (Invoke-Native bash @($dmsetupScript, 'bench', $poolDevice, 'remove', (2 * $n), $scriptId)) (2 * $n)
        Add-Result 'dmsetup' 'status (all devices)' $level (Invoke-Native bash @($dmsetupScript, 'list', $listings)) $listings
        # What Get-PoolStatus is to the module, `dmsetup status <pool>` is to a script.
        Add-Result 'dmsetup' 'Get-PoolStatus' $level (Invoke-Native bash @($dmsetupScript, 'status', $queries, 'bench')) $queries
        $scriptId += 10000
    }
    # Streams (issue 19): a volume written whole, exported and imported in full and after 1 % of it
    # changed, against dd copying the same data through the devices. Each measured once: seconds long.
    Write-Host "Streams: $StreamMiB MiB"
    $streamBytes = [long]$StreamMiB * 1MB
    $volume = New-ThinVolume -Pool bench -Name stream -Size $streamBytes
    Invoke-Quiet dd @('if=/dev/urandom', "of=$($volume.DevicePath)", 'bs=1M', "count=$StreamMiB", 'oflag=direct')
    $null = New-ThinSnapshot -Pool bench -Origin stream -Name st0
    $changed = [math]::Max(1, [int]($streamBytes / 100 / 64KB))   # 1 %, in scattered 64 KiB blocks
    $step = [long]($streamBytes / $changed / 64KB) * 64KB
    for ($i = 0; $i -lt $changed; $i++) { Invoke-Quiet dd @('if=/dev/urandom', "of=$($volume.DevicePath)", 'bs=64K', 'count=1', "seek=$($i * $step / 64KB)", 'oflag=direct') }
    $null = New-ThinSnapshot -Pool bench -Origin stream -Name st1
    $full = Join-Path $work 'st0.full'; $inc = Join-Path $work 'st1.inc'
    Measure-Module 'export full' $StreamMiB 1 { Export-ThinVolume -Pool bench -Name st0 -Path $full }
    Measure-Module 'export 1 % incremental' $StreamMiB 1 { Export-ThinVolume -Pool bench -Name st1 -Since st0 -Path $inc }
    Measure-Module 'import full' $StreamMiB 1 { Import-ThinVolume -Pool bench -Name rt0 -Path $full }
    Measure-Module 'import 1 % incremental' $StreamMiB 1 { Import-ThinVolume -Pool bench -Name rt1 -Path $inc }
    $copy = New-ThinVolume -Pool bench -Name ddcopy -Size $streamBytes
    Add-Result 'dd' 'full copy through the devices' $StreamMiB (Measure-Mean 1 { Invoke-Quiet dd @("if=/dev/mapper/bench-st0", "of=$($copy.DevicePath)", 'bs=1M', 'iflag=direct', 'oflag=direct') }) 1
    Write-Host ("  stream files: full {0:N1} MiB, 1 % incremental {1:N1} MiB" -f ((Get-Item $full).Length / 1MB), ((Get-Item $inc).Length / 1MB))

    Remove-ThinPool bench -DeactivateVolumes -Force
    # Every contender's changes went through this pool's metadata: it must still pass thin_check.
    $loop = (& losetup -r -f --show $pool.MetadataPath).Trim()
    $metadataCheck = (& thin_check $loop 2>&1 | Out-String).Trim()
    $metadataClean = $LASTEXITCODE -eq 0
    & losetup -d $loop
    if (-not $metadataClean) { throw "thin_check of the benchmark pool's metadata failed: $metadataCheck" }

    # LVM on a pool of its own, on a sparse loop file of the same size (-LvmMaxLevel 0: none).
    $lvmLevels = @([int[]]($Levels -split ',') | Where-Object { $_ -le $LvmMaxLevel })
    if ($lvmLevels) {
        $lvmDir = Join-Path $work 'lvm'
        New-Item -ItemType Directory $lvmDir | Out-Null
        & truncate -s 2G (Join-Path $work 'lvm.img')
        $lvmDevice = (& losetup -f --show (Join-Path $work 'lvm.img')).Trim()
        Invoke-Quiet bash @($lvmScript, 'setup', $lvmDir, $lvmDevice)
        $lvmPopulation = 1
        foreach ($level in $lvmLevels) {
            Write-Host "LVM level $level"
            if ($level -gt $lvmPopulation) { Invoke-Quiet bash @($lvmScript, 'fill', $lvmDir, ($level - $lvmPopulation), $lvmPopulation); $lvmPopulation = $level }
            $n = $LvmCount
            Add-Result 'lvm' 'create+activate' $level (Invoke-Native bash @($lvmScript, 'create', $lvmDir, $n, 0)) $n
            Add-Result 'lvm' 'snapshot+activate' $level (Invoke-Native bash @($lvmScript, 'snapshot', $lvmDir, $n, 0)) $n
            Add-Result 'lvm' 'deactivate+remove' $level (Invoke-Native bash @($lvmScript, 'remove', $lvmDir, $n, 0)) $n
            Invoke-Quiet bash @($lvmScript, 'unsnap', $lvmDir, $n, 0)
            Add-Result 'lvm' 'lvs (all)' $level (Invoke-Native bash @($lvmScript, 'list', $lvmDir, 5)) 5
        }
    }
}
finally {
    if ($lvmDevice) {
        & bash $lvmScript teardown (Join-Path $work 'lvm') $lvmDevice *> $null
        & losetup -d $lvmDevice
    }
    if (Get-ThinPool bench -ErrorAction SilentlyContinue) { Remove-ThinPool bench -DeactivateVolumes -Force -ErrorAction Continue }
    Remove-Item -Recurse -Force $work -ErrorAction Continue
    [pscustomobject]@{ MetadataClean = $metadataClean; Machine = @{ Kernel = (uname -r); Cpu = ((Select-String -Path /proc/cpuinfo -Pattern '^model name' | Select-Object -First 1).Line -replace '^[^:]*:\s*', ''); Cpus = [Environment]::ProcessorCount; Memory = ((Get-Content /proc/meminfo -TotalCount 1) -replace '\s+', ' ') }; Results = $results; SessionMemory = $memory } |
        ConvertTo-Json -Depth 4 | Set-Content $OutputFile
}
