<#
.SYNOPSIS
    The short real demo: a thin pool on sparse loop files, its status, and a clean teardown.
    build.ps1 -Task Demo runs it, on the host when it has device-mapper, else in the guest.
#>
param([Parameter(Mandatory)] [string] $ModuleManifest)
$ErrorActionPreference = 'Stop'
# A serial console (the guest) draws progress bars as escape codes: keep them out there.
if ($env:DMPS_GUEST -eq '1') { $ProgressPreference = 'SilentlyContinue' }
Import-Module $ModuleManifest
$stateRoot = Join-Path ([IO.Path]::GetTempPath()) "dmps-demo-$PID"
New-Item -ItemType Directory $stateRoot | Out-Null
try {
    Write-Host "`n> New-ThinPool -Name demo -DataSize 1GB -MetadataSize 16MB" -ForegroundColor Green
    New-ThinPool -Name demo -DataSize 1GB -MetadataSize 16MB -StateRoot $stateRoot | Out-Host

    Write-Host '> Get-PoolStatus demo' -ForegroundColor Green
    Get-PoolStatus demo -StateRoot $stateRoot | Out-Host

    Write-Host '> Get-ThinPool demo | New-ThinVolume -Name base -Size 1GB -FileSystem ext4 | New-ThinSnapshot -Name layer1 | New-ThinSnapshot -Name ctr1' -ForegroundColor Green
    Get-ThinPool demo -StateRoot $stateRoot | New-ThinVolume -Name base -Size 1GB -FileSystem ext4 |
        New-ThinSnapshot -Name layer1 | New-ThinSnapshot -Name ctr1 | Out-Null
    Write-Host '> Get-ThinPool demo | Get-ThinVolume' -ForegroundColor Green
    Get-ThinPool demo -StateRoot $stateRoot | Get-ThinVolume | Out-Host
    Write-Host '> Get-ThinPool demo -Tree' -ForegroundColor Green
    Get-ThinPool demo -Tree -StateRoot $stateRoot | Out-Host

    Write-Host '> Resize-ThinPool demo -DataSize 2GB' -ForegroundColor Green
    Resize-ThinPool demo -DataSize 2GB -StateRoot $stateRoot | Out-Null
    Get-PoolStatus demo -StateRoot $stateRoot | Out-Host

    Write-Host '> Remove-ThinPool demo -DeactivateVolumes -DeleteBackingFiles -Force' -ForegroundColor Green
    Remove-ThinPool demo -DeactivateVolumes -DeleteBackingFiles -Force -StateRoot $stateRoot
    Write-Host 'Demo finished: a pool, a formatted base volume and two snapshots were created, reported, grown and removed.'
}
finally {
    Remove-Item -Recurse -Force $stateRoot -ErrorAction SilentlyContinue
}
