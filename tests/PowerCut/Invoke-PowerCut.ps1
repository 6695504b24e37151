<#
.SYNOPSIS
    The power-cut replay (issue 20), in the guest: runs the workload on a logged disk, replays
    the log to every durable point and checks each image. Writes one row per image to
    -OutputFile (JSON) and prints a summary line.
.PARAMETER Only
    Replay only the points that fall inside these operations (CI's representative part).
.PARAMETER Until
    Run the workload only up to this operation.
.PARAMETER Reordered
    Also check, before each durable point, an image holding only the later half of the
    writes since the last one, applied last first.
#>
param(
    [Parameter(Mandatory)] [string] $OutputFile,
    # The built DmPowerShell.Tests.PowerCut.dll (the log reader and replayer).
    [Parameter(Mandatory)] [string] $Assembly,
    [string[]] $Only,
    # Loop: the pool's sparse files in the state root, all on the logged disk. Direct: the pool
    # on two block devices of its own (not logged, left as the workload ended them), only the
    # registry on the logged disk: each image puts the registry behind the pool's metadata.
    [ValidateSet('Loop', 'Direct')] [string] $Mode = 'Loop',
    # Stop the workload after this operation (CI's shorter run).
    [string] $Until,
    [switch] $Reordered
)
$ErrorActionPreference = 'Stop'
$Only = @($Only | ForEach-Object { $_ -split ',' } | Where-Object { $_ })   # `pwsh -File` passes no arrays
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 3.0
$started = [Diagnostics.Stopwatch]::StartNew()
Import-Module $env:DMPS_MODULE_MANIFEST
Add-Type -Path $Assembly
Import-Module (Join-Path $PSScriptRoot 'PowerCut.psm1') -Force

$work = Join-Path ([IO.Path]::GetTempPath()) "dmps-powercut-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
$mount = Join-Path $work 'mnt'
$script:expected = @{}

function Get-VolumeHash([string] $Name, [int] $MiB) {
    $volume = Get-ThinVolume -Pool pc -Name $Name -ErrorAction SilentlyContinue
    if (-not $volume -or -not $volume.Active) { return $null }
    $stream = [IO.File]::OpenRead($volume.DevicePath)
    try {
        $buffer = [byte[]]::new($MiB * 1MB)
        $stream.ReadExactly($buffer, 0, $buffer.Length)
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($buffer))
    }
    finally { $stream.Dispose() }
}

function Get-Volume([string] $Name) { Get-ThinVolume -Pool pc -Name $Name -ErrorAction SilentlyContinue }

function Write-Random([string] $Device, [int] $MiB, [int] $SeekMiB = 0) {
    & dd if=/dev/urandom "of=$Device" bs=1M "count=$MiB" "seek=$SeekMiB" oflag=direct conv=fsync status=none
    if ($LASTEXITCODE -ne 0) { throw "dd to $Device failed" }
}

# The workload: what the issue lists, each operation with what "whole" and "absent" mean for it
# after a boot, true also after the later operations. Writes count as done once synced
# (conv=fsync); a write cut midway may be torn.
$operations = @(
    @{ Name = 'pool-create'
        Run = {
            if ($Mode -eq 'Direct') { New-ThinPool -Name pc -DataDevice $script:devices[0] -MetadataDevice $script:devices[1] | Out-Null }
            else { New-ThinPool -Name pc -DataSize 64MB -MetadataSize 4MB | Out-Null }
        }
        Present = { (Get-ThinPool pc -ErrorAction SilentlyContinue).Active }
        Absent = { -not (Get-ThinPool pc -ErrorAction SilentlyContinue) } }
    @{ Name = 'volume-create-ext4'; Run = { New-ThinVolume -Pool pc -Name v1 -Size 32MB -FileSystem ext4 | Out-Null }
        Present = { $v = Get-Volume v1; $v.Active -and (& blkid -o value -s TYPE $v.DevicePath) -eq 'ext4' }
        Absent = { -not (Get-Volume v1) } }
    @{ Name = 'volume-create'; Run = { New-ThinVolume -Pool pc -Name v2 -Size 16MB | Out-Null }
        Present = { (Get-Volume v2).Active }
        Absent = { -not (Get-Volume v2) } }
    @{ Name = 'write'; Run = { Write-Random (Get-Volume v2).DevicePath 2; $script:expected.v2 = Get-VolumeHash v2 2 }
        Present = { (Get-VolumeHash v2 2) -eq $script:expected.v2 }
        Absent = { $true } }
    @{ Name = 'snapshot'; Run = { New-ThinSnapshot -Pool pc -Origin v2 -Name s1 | Out-Null }
        Present = { (Get-VolumeHash s1 2) -eq $script:expected.v2 -or (Get-VolumeHash s1r 2) -eq $script:expected.v2 }
        Absent = { -not (Get-Volume s1) } }
    @{ Name = 'snapshot-bulk'; Run = { New-ThinSnapshot -Pool pc -Origin v1 -Name b1, b2, b3 | Out-Null }
        # b2 and b3 are removed later in the workload; one transaction made all three.
        Present = { (Get-Volume b1).Active }
        Absent = { @('b1', 'b2', 'b3' | Where-Object { Get-Volume $_ }).Count -eq 0 } }
    @{ Name = 'pool-resize'; Loop = $true; Run = { Resize-ThinPool pc -DataSize 96MB | Out-Null }
        Present = { (Get-ThinPool pc).DataSize -ge 96MB -and (Get-PoolStatus pc).DataSpaceTotal -eq (Get-ThinPool pc).DataSize }
        Absent = { (Get-ThinPool pc).DataSize -eq 64MB -and (Get-PoolStatus pc).DataSpaceTotal -eq 64MB } }
    @{ Name = 'volume-resize'; Run = { Resize-ThinVolume -Pool pc -Name v2 -Size 32MB | Out-Null }
        Present = { $v = Get-Volume v2; $v.Size -eq 32MB -and [long](& blockdev --getsize64 $v.DevicePath) -eq 32MB }
        Absent = { $v = Get-Volume v2; $v.Size -eq 16MB -and [long](& blockdev --getsize64 $v.DevicePath) -eq 16MB } }
    @{ Name = 'rename'; Run = { Rename-ThinVolume -Pool pc -Name s1 -NewName s1r | Out-Null }
        Present = { -not (Get-Volume s1) -and (Get-VolumeHash s1r 2) -eq $script:expected.v2 }
        Absent = { (Get-Volume s1) -and -not (Get-Volume s1r) } }
    @{ Name = 'deferred-remove'
        Run = {
            # b2 held open (as a mount would): the kernel removes it when it closes; the next
            # command (the remove below) deletes its thin id and record.
            $holder = [IO.File]::OpenRead((Get-Volume b2).DevicePath)
            try { Remove-ThinVolume -Pool pc -Name b2 -Deferred -Force -Confirm:$false -WarningAction SilentlyContinue }
            finally { $holder.Dispose() }
            for ($i = 0; $i -lt 100 -and (Test-Path /dev/mapper/pc-b2); $i++) { Start-Sleep -Milliseconds 100 }
        }
        # Whole: gone, or recorded as pending deletion (inactive) for the next command to finish.
        Present = { $v = Get-Volume b2; -not $v -or ($v.PendingDeletion -and -not $v.Active) }
        Absent = { $v = Get-Volume b2; $v -and -not $v.PendingDeletion } }
    @{ Name = 'remove'; Run = { Remove-ThinVolume -Pool pc -Name b3 -Force -Confirm:$false }
        Present = { -not (Get-Volume b3) -and -not (Test-Path /dev/mapper/pc-b3) }
        Absent = { [bool](Get-Volume b3) } }
    @{ Name = 'set-pool'
        Run = {
            if ($Mode -eq 'Direct') { Set-ThinPool pc -NoSpacePolicy Error }
            else { Set-ThinPool pc -NoSpacePolicy Error -AutoextendThreshold 50 -AutoextendPercent 50 -MaximumDataSize 256MB }
        }
        Present = { $p = Get-ThinPool pc; $p.NoSpacePolicy -eq 'Error' -and (& dmsetup table pc) -match 'error_if_no_space' }
        Absent = { $p = Get-ThinPool pc; $p.NoSpacePolicy -eq 'Queue' -and (& dmsetup table pc) -notmatch 'error_if_no_space' } }
    @{ Name = 'autoextend'; Loop = $true
        Run = {
            # Past the 50 % threshold of the 96 MiB pool: the watcher grows it by half.
            $fill = New-ThinVolume -Pool pc -Name fill -Size 64MB
            Write-Random $fill.DevicePath 60
            Watch-ThinPool pc -Timeout 10 -CheckInterval 1 | Out-Null
            if ((Get-ThinPool pc).DataSize -le 96MB) { throw 'the watcher did not extend the pool' }
        }
        Present = { (Get-ThinPool pc).DataSize -gt 96MB -and (Get-PoolStatus pc).DataSpaceTotal -gt 96MB }
        Absent = { $true } }
)

# A direct pool's size is its device's: growing it and autoextend are loop-mode operations.
if ($Mode -eq 'Direct') { $operations = @($operations | Where-Object { -not $_['Loop'] }) }
if ($Until) {
    $last = [array]::FindIndex([object[]]$operations, [Predicate[object]] { param($op) $op.Name -eq $Until })
    if ($last -lt 0) { throw "No operation '$Until' in the workload." }
    $operations = $operations[0..$last]
}
$disk = $null
$results = @()
$script:devices = @()
try {
    $disk = New-LoggedDisk -Work $work -Mount $mount
    $beforeImage = $null
    if ($Mode -eq 'Direct') {
        $files = foreach ($name in 'data', 'meta') { $file = Join-Path $work "$name.img"; & truncate -s $(if ($name -eq 'data') { '128M' } else { '8M' }) $file; $file }
        $script:devices = foreach ($file in $files) { (& losetup -f --show $file).Trim() }
        # Every image meets the metadata as the workload left it: Repair-ThinPool may write to it.
        $beforeImage = { & cp --sparse=always "$($files[1]).final" $files[1]; if ($LASTEXITCODE) { throw 'restoring the metadata failed' } }.GetNewClosure()
    }
    $env:DMPS_STATE_ROOT = Join-Path $mount 'state'
    $null = Invoke-Workload -Operation $operations
    foreach ($pool in @(Get-ThinPool)) { Disable-ThinPool $pool.Name -DeactivateVolumes -Confirm:$false }
    if ($Mode -eq 'Direct') { & cp --sparse=always $files[1] "$($files[1]).final" }
    Stop-LoggedDisk $disk
    $results = @(Invoke-Replay -Disk $disk -Operation $operations -Only $Only -Reordered:$Reordered -BeforeImage $beforeImage)
}
finally {
    # Never hide the error that got here: cleaning up only warns.
    if ($disk) { try { Stop-LoggedDisk $disk } catch { Write-Warning "cleanup: $_" } }
    foreach ($device in $script:devices) { & losetup -d $device 2>$null }
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
    [pscustomobject]@{
        Workload = $Mode.ToLowerInvariant(); Seconds = [math]::Round($started.Elapsed.TotalSeconds, 1); Results = $results
    } | ConvertTo-Json -Depth 4 | Set-Content $OutputFile
}
$counts = $results | Group-Object Result | ForEach-Object { "$($_.Count) $($_.Name)" }
Write-Host ("Power cut: {0} images in {1:N0} s: {2}" -f $results.Count, $started.Elapsed.TotalSeconds, ($counts -join ', '))
