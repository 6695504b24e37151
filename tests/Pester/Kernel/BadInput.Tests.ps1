# The bad-input catalog (guest lane only): each case must fail with its typed error (id and
# category) and change nothing: dm tables, loop devices, and every file under the state roots
# are compared before and after. `./build.ps1 -Task Reliability` runs every case (DMPS_MATRIX=full)
# and counts them in its table; GuestTest, and so CI, runs the cases marked Sample: every
# category of input, and every error id of each.
BeforeDiscovery { Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force }

BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane

    $script:root = New-TestStateRoot
    $script:scratch = New-TestStateRoot   # files and mounts the catalog needs, outside the registry
    $env:DMPS_STATE_ROOT = $script:root
    $web = New-ThinPool -Name web -DataSize 1GB -MetadataSize 16MB
    $base = $web | New-ThinVolume -Name base -Size 64MB -FileSystem ext4
    $null = $base | New-ThinSnapshot -Name layer1
    $null = $web | New-ThinVolume -Name idle -Size 64MB -Inactive
    $null = New-ThinPool -Name other -DataSize 256MB -MetadataSize 8MB | New-ThinVolume -Name ov -Size 32MB
    $null = New-ThinPool -Name cold -DataSize 256MB -MetadataSize 8MB | Disable-ThinPool
    # A read-only pool: its table reloaded with read_only behind the module's back.
    $null = New-ThinPool -Name ro -DataSize 256MB -MetadataSize 8MB | New-ThinVolume -Name rv -Size 32MB
    $fields = (Get-DmTable ro) -split ' '
    $features = @(if ([int]$fields[7] -gt 0) { $fields[8..(8 + [int]$fields[7] - 1)] }) + 'read_only'
    $table = (($fields[0..6] + @("$($features.Count)") + $features) -join ' ')
    Invoke-Tool dmsetup @('suspend', 'ro') | Out-Null
    Invoke-Tool dmsetup @('load', 'ro', '--table', $table) | Out-Null
    Invoke-Tool dmsetup @('resume', 'ro') | Out-Null
    # A pool the kernel flagged needs_check: the flag set in its superblock at rest; it comes up read-only.
    $nc = New-ThinPool -Name nc -DataSize 256MB -MetadataSize 8MB
    $null = $nc | New-ThinVolume -Name nv -Size 32MB -Inactive
    Disable-ThinPool nc
    Set-NeedsCheckFlag $nc.MetadataPath
    Enable-ThinPool nc
    # A full pool: error_if_no_space, no minimum, written past its data space.
    $full = New-ThinPool -Name full -DataSize 64MB -MetadataSize 8MB -NoSpacePolicy Error -MinimumFreeSpacePercent 0 | New-ThinVolume -Name fill -Size 128MB
    & (Resolve-Tool dd) if=/dev/zero "of=$($full.DevicePath)" bs=1M count=100 oflag=direct status=none 2>$null
    # base mounted; two spare block devices for direct mode, one with a file system.
    $script:mount = Join-Path $script:scratch 'mnt'
    New-Item -ItemType Directory $script:mount | Out-Null
    Invoke-Tool mount @($base.DevicePath, $script:mount) | Out-Null
    & (Resolve-Tool truncate) -s 64M (Join-Path $script:scratch 'blank') (Join-Path $script:scratch 'withfs')
    Invoke-Tool mkfs.ext4 @('-q', (Join-Path $script:scratch 'withfs')) | Out-Null
    $script:blankLoop = (Invoke-Tool losetup @('-f', '--show', (Join-Path $script:scratch 'blank'))).Trim()
    $script:fsLoop = (Invoke-Tool losetup @('-f', '--show', (Join-Path $script:scratch 'withfs'))).Trim()
    # dm devices that are not the module's, named as a pool or a volume would be.
    Invoke-Tool dmsetup @('create', 'foreign', '--table', '0 2048 zero') | Out-Null
    Invoke-Tool dmsetup @('create', 'other-dev', '--table', '0 2048 zero') | Out-Null
    # State roots that are wrong: a symlink, and a folder on a read-only file system.
    $script:linkRoot = Join-Path $script:scratch 'link'
    New-Item -ItemType SymbolicLink -Path $script:linkRoot -Target $script:root | Out-Null
    $script:roMount = Join-Path $script:scratch 'ro'
    New-Item -ItemType Directory $script:roMount | Out-Null
    Invoke-Tool mount @('-t', 'tmpfs', '-o', 'ro,size=1M', 'tmpfs', $script:roMount) | Out-Null

}

AfterAll {
    Invoke-Tool umount @($script:mount) -AllowFailure | Out-Null
    Invoke-Tool umount @($script:roMount) -AllowFailure | Out-Null
    Invoke-Tool losetup @('-d', $script:blankLoop, $script:fsLoop) -AllowFailure | Out-Null
    Invoke-Tool dmsetup @('remove', 'foreign') -AllowFailure | Out-Null
    Invoke-Tool dmsetup @('remove', 'other-dev') -AllowFailure | Out-Null
    $null = Repair-ThinPool nc -WarningAction SilentlyContinue   # what its user would do: thin_repair clears needs_check
    Remove-Item Env:DMPS_STATE_ROOT
    Assert-CleanMetadata -StateRoot $script:root
    Remove-Item -Recurse -Force $script:scratch -ErrorAction SilentlyContinue
}

Describe 'Bad input catalog' -Tag Kernel, BadInput {
    It '<Case>: <Id> (<Category>), nothing changed' -ForEach (Select-MatrixCase @(
        # Pool names
        @{ Sample = $true; Case = 'pool name empty'; Id = 'ParameterArgumentValidationErrorEmptyStringNotAllowed'; Category = 'InvalidData'; Command = { New-ThinPool -Name '' -DataSize 1GB } }
        @{ Sample = $true; Case = 'pool name with /'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name 'a/b' -DataSize 1GB } }
        @{ Case = 'pool name ..'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name '..' -DataSize 1GB } }
        @{ Case = 'pool name with a space'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name 'a b' -DataSize 1GB } }
        @{ Case = 'pool name with a tab'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name "a`tb" -DataSize 1GB } }
        @{ Case = 'pool name with a newline'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name "a`nb" -DataSize 1GB } }
        @{ Case = 'pool name with a control character'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name "a$([char]1)b" -DataSize 1GB } }
        @{ Case = 'pool name with non-ASCII'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name 'päl' -DataSize 1GB } }
        @{ Case = 'pool name starting with -'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name '-x' -DataSize 1GB } }
        @{ Case = 'pool name too long for dm'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name ('p' * 128) -DataSize 1GB } }
        @{ Case = 'pool name too long once dashes double'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name ('a-' * 50) -DataSize 1GB } }
        @{ Case = 'pool name taken'; Id = 'NameTaken'; Category = 'ResourceExists'; Command = { New-ThinPool -Name web -DataSize 1GB } }
        @{ Sample = $true; Case = 'pool name taken by another dm device'; Id = 'NameTaken'; Category = 'ResourceExists'; Command = { New-ThinPool -Name foreign -DataSize 1GB } }
        @{ Case = 'volume name whose device is taken'; Id = 'NameTaken'; Category = 'ResourceExists'; Command = { New-ThinVolume -Pool other -Name dev -Size 1GB } }
        # Pool sizes and settings
        @{ Case = 'data size zero'; Id = 'InvalidSize'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 0 } }
        @{ Case = 'data size negative'; Id = 'InvalidSize'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize (-1GB) } }
        @{ Sample = $true; Case = 'data size not a multiple of the block size'; Id = 'InvalidSize'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize (1GB + 512) } }
        @{ Case = 'data size not a multiple of the sector'; Id = 'InvalidSize'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize (1GB + 1) } }
        @{ Case = 'data size beyond the kernel (9 EiB, over 2^63 bytes)'; Id = 'ParameterArgumentTransformationError'; Category = 'InvalidData'; Command = { New-ThinPool -Name p -DataSize '9EiB' } }
        @{ Sample = $true; Case = 'data size not a size'; Id = 'ParameterArgumentTransformationError'; Category = 'InvalidData'; Command = { New-ThinPool -Name p -DataSize 'lots' } }
        @{ Case = 'block size 32 KiB'; Id = 'InvalidBlockSize'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -BlockSize 32KB } }
        @{ Case = 'block size 2 GiB'; Id = 'InvalidBlockSize'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 2GB -BlockSize 2GB } }
        @{ Sample = $true; Case = 'block size 96 KiB'; Id = 'InvalidBlockSize'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -BlockSize 96KB } }
        @{ Case = 'block size zero'; Id = 'InvalidBlockSize'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -BlockSize 0 } }
        @{ Case = 'metadata 1 MiB'; Id = 'MetadataSizeOutOfRange'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -MetadataSize 1MB } }
        @{ Case = 'metadata over 33,423,360 sectors'; Id = 'MetadataSizeOutOfRange'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -MetadataSize (33423361 * 512) } }
        @{ Case = 'low water mark negative'; Id = 'InvalidSetting'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -LowWaterMark -1 } }
        @{ Case = 'low water mark beyond the pool'; Id = 'InvalidSetting'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -LowWaterMark 16384 } }
        @{ Case = 'minimum free space 100%'; Id = 'InvalidSetting'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -MinimumFreeSpacePercent 100 } }
        @{ Case = 'minimum free space negative'; Id = 'InvalidSetting'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -MinimumFreeSpacePercent -1 } }
        @{ Case = 'discard mode unknown'; Id = 'CannotConvertArgumentNoMessage'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -DiscardMode Sometimes } }
        # Direct mode devices
        @{ Case = 'data device equal to metadata device'; Id = 'SameDataAndMetadataDevice'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataDevice $script:blankLoop -MetadataDevice $script:blankLoop } }
        @{ Case = 'data device not a block device'; Id = 'DeviceNotFound'; Category = 'ObjectNotFound'; Command = { New-ThinPool -Name p -DataDevice (Join-Path $script:scratch 'blank') -MetadataDevice $script:blankLoop } }
        @{ Case = 'data device missing'; Id = 'DeviceNotFound'; Category = 'ObjectNotFound'; Command = { New-ThinPool -Name p -DataDevice /dev/nosuchdisk -MetadataDevice $script:blankLoop } }
        @{ Sample = $true; Case = 'device with a file system'; Id = 'DeviceHasSignature'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataDevice $script:fsLoop -MetadataDevice $script:blankLoop } }
        @{ Case = 'device mounted'; Id = 'DeviceInUse'; Category = 'ResourceBusy'; Command = { New-ThinPool -Name p -DataDevice (Get-ThinVolume -Pool web -Name base).DevicePath -MetadataDevice $script:blankLoop -Force } }
        @{ Case = 'device held by a pool'; Id = 'DeviceInUse'; Category = 'ResourceBusy'; Command = { New-ThinPool -Name p -DataDevice (Get-ThinPool web).DataDevice -MetadataDevice $script:blankLoop -Force } }
        # State roots
        @{ Case = 'state root with no parent'; Id = 'StateRootInvalid'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -StateRoot (Join-Path $script:scratch 'no/such/root') } }
        @{ Sample = $true; Case = 'state root a symlink'; Id = 'StateRootInvalid'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -StateRoot $script:linkRoot } }
        @{ Case = 'state root a file'; Id = 'StateRootInvalid'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -StateRoot (Join-Path $script:scratch 'blank') } }
        @{ Case = 'state root read-only'; Id = 'StateRootInvalid'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -StateRoot (Join-Path $script:roMount 'state') } }
        # Volume names and sizes
        @{ Case = 'volume name empty'; Id = 'ParameterArgumentValidationErrorEmptyStringNotAllowed'; Category = 'InvalidData'; Command = { New-ThinVolume -Pool web -Name '' -Size 1GB } }
        @{ Case = 'volume name with /'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinVolume -Pool web -Name '../x' -Size 1GB } }
        @{ Case = 'volume name with whitespace'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinVolume -Pool web -Name 'a b' -Size 1GB } }
        @{ Case = 'volume name too long with its pool'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinVolume -Pool web -Name ('v' * 124) -Size 1GB } }
        @{ Case = 'volume name taken'; Id = 'NameTaken'; Category = 'ResourceExists'; Command = { New-ThinVolume -Pool web -Name base -Size 1GB } }
        @{ Case = 'snapshot name taken'; Id = 'NameTaken'; Category = 'ResourceExists'; Command = { New-ThinSnapshot -Pool web -Origin base -Name layer1 } }
        @{ Sample = $true; Case = 'snapshot name given twice'; Id = 'NameTaken'; Category = 'ResourceExists'; Command = { New-ThinSnapshot -Pool web -Origin base -Name s1, s1 } }
        @{ Case = 'volume size zero'; Id = 'InvalidSize'; Category = 'InvalidArgument'; Command = { New-ThinVolume -Pool web -Name v -Size 0 } }
        @{ Case = 'volume size negative'; Id = 'InvalidSize'; Category = 'InvalidArgument'; Command = { New-ThinVolume -Pool web -Name v -Size (-1MB) } }
        @{ Case = 'volume size not a multiple of the sector'; Id = 'InvalidSize'; Category = 'InvalidArgument'; Command = { New-ThinVolume -Pool web -Name v -Size 1000 } }
        @{ Case = 'volume size beyond the kernel (9 EiB, over 2^63 bytes)'; Id = 'ParameterArgumentTransformationError'; Category = 'InvalidData'; Command = { New-ThinVolume -Pool web -Name v -Size '9EiB' } }
        @{ Case = 'file system unknown'; Id = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Command = { New-ThinVolume -Pool web -Name v -Size 1GB -FileSystem ntfs } }
        # Missing things
        @{ Case = 'missing pool for a volume'; Id = 'PoolNotFound'; Category = 'ObjectNotFound'; Command = { New-ThinVolume -Pool nope -Name v -Size 1GB } }
        @{ Case = 'missing pool for a snapshot'; Id = 'PoolNotFound'; Category = 'ObjectNotFound'; Command = { New-ThinSnapshot -Pool nope -Origin base -Name s } }
        @{ Case = 'missing pool for a resize'; Id = 'PoolNotFound'; Category = 'ObjectNotFound'; Command = { Resize-ThinPool nope -DataSize 2GB } }
        @{ Case = 'missing pool for a removal'; Id = 'PoolNotFound'; Category = 'ObjectNotFound'; Command = { Remove-ThinPool nope -Force } }
        @{ Case = 'missing pool to enable'; Id = 'PoolNotFound'; Category = 'ObjectNotFound'; Command = { Enable-ThinPool nope } }
        @{ Case = 'missing pool status'; Id = 'PoolNotFound'; Category = 'ObjectNotFound'; Command = { Get-PoolStatus nope } }
        @{ Case = 'missing pool to test'; Id = 'PoolNotFound'; Category = 'ObjectNotFound'; Command = { Test-ThinPool nope } }
        @{ Sample = $true; Case = 'missing origin'; Id = 'VolumeNotFound'; Category = 'ObjectNotFound'; Command = { New-ThinSnapshot -Pool web -Origin nope -Name s } }
        @{ Case = 'origin in another pool'; Id = 'VolumeNotFound'; Category = 'ObjectNotFound'; Command = { New-ThinSnapshot -Pool web -Origin ov -Name s } }
        @{ Case = 'missing volume to enable'; Id = 'VolumeNotFound'; Category = 'ObjectNotFound'; Command = { Enable-ThinVolume web nope } }
        @{ Case = 'missing volume to disable'; Id = 'VolumeNotFound'; Category = 'ObjectNotFound'; Command = { Disable-ThinVolume web nope } }
        @{ Case = 'missing volume to rename'; Id = 'VolumeNotFound'; Category = 'ObjectNotFound'; Command = { Rename-ThinVolume web nope -NewName x } }
        @{ Case = 'missing volume to resize'; Id = 'VolumeNotFound'; Category = 'ObjectNotFound'; Command = { Resize-ThinVolume web nope -Size 1GB } }
        @{ Case = 'missing volume to remove'; Id = 'VolumeNotFound'; Category = 'ObjectNotFound'; Command = { Remove-ThinVolume web nope -Force } }
        @{ Case = 'rename onto a taken name'; Id = 'NameTaken'; Category = 'ResourceExists'; Command = { Rename-ThinVolume web layer1 -NewName idle } }
        # Shrinks and limits
        @{ Sample = $true; Case = 'pool data shrink'; Id = 'ShrinkNotSupported'; Category = 'InvalidArgument'; Command = { Resize-ThinPool web -DataSize 512MB } }
        @{ Case = 'pool metadata shrink'; Id = 'ShrinkNotSupported'; Category = 'InvalidArgument'; Command = { Resize-ThinPool web -MetadataSize 8MB } }
        @{ Case = 'pool metadata grown over the limit'; Id = 'MetadataSizeOutOfRange'; Category = 'InvalidArgument'; Command = { Resize-ThinPool web -MetadataSize 16GB } }
        @{ Case = 'pool data not a multiple of the block size'; Id = 'InvalidSize'; Category = 'InvalidArgument'; Command = { Resize-ThinPool web -DataSize (2GB + 4096) } }
        @{ Case = 'volume shrink'; Id = 'ShrinkNotSupported'; Category = 'InvalidArgument'; Command = { Resize-ThinVolume web layer1 -Size 32MB } }
        # Devices in use and pool states
        @{ Case = 'disable a mounted volume'; Id = 'DeviceInUse'; Category = 'ResourceBusy'; Command = { Disable-ThinVolume web base } }
        @{ Sample = $true; Case = 'remove a mounted volume'; Id = 'DeviceInUse'; Category = 'ResourceBusy'; Command = { Remove-ThinVolume web base -Force } }
        @{ Case = 'disable a pool with a mounted volume'; Id = 'DeviceInUse'; Category = 'ResourceBusy'; Command = { Disable-ThinPool web -DeactivateVolumes } }
        @{ Case = 'disable a pool with active volumes'; Id = 'VolumesActive'; Category = 'ResourceBusy'; Command = { Disable-ThinPool other } }
        @{ Case = 'remove a pool with active volumes'; Id = 'VolumesActive'; Category = 'ResourceBusy'; Command = { Remove-ThinPool other -Force } }
        @{ Sample = $true; Case = 'volume in an inactive pool'; Id = 'PoolInactive'; Category = 'InvalidOperation'; Command = { New-ThinVolume -Pool cold -Name v -Size 1GB } }
        @{ Case = 'resize an inactive pool'; Id = 'PoolInactive'; Category = 'InvalidOperation'; Command = { Resize-ThinPool cold -DataSize 512MB } }
        @{ Case = 'volume in a read-only pool'; Id = 'PoolUnhealthy'; Category = 'InvalidOperation'; Command = { New-ThinVolume -Pool ro -Name v -Size 1GB } }
        @{ Case = 'snapshot in a read-only pool'; Id = 'PoolUnhealthy'; Category = 'InvalidOperation'; Command = { New-ThinSnapshot -Pool ro -Origin rv -Name s } }
        @{ Case = 'volume in a needs_check pool'; Id = 'PoolUnhealthy'; Category = 'InvalidOperation'; Command = { New-ThinVolume -Pool nc -Name v -Size 1GB } }
        @{ Case = 'snapshot in a needs_check pool'; Id = 'PoolUnhealthy'; Category = 'InvalidOperation'; Command = { New-ThinSnapshot -Pool nc -Origin nv -Name s } }
        @{ Sample = $true; Case = 'spare device for a loop-backed pool'; Id = 'InvalidSetting'; Category = 'InvalidArgument'; Command = { Repair-ThinPool nc -SpareDevice $script:blankLoop } }
        @{ Case = 'volume in an out-of-data-space pool'; Id = 'PoolUnhealthy'; Category = 'InvalidOperation'; Command = { New-ThinVolume -Pool full -Name v -Size 1GB } }
        @{ Sample = $true; Case = 'snapshot in an out-of-data-space pool'; Id = 'PoolUnhealthy'; Category = 'InvalidOperation'; Command = { New-ThinSnapshot -Pool full -Origin fill -Name s } }
        # Monitoring and LVM mode
        @{ Case = 'autoextend threshold under 50 at creation'; Id = 'InvalidSetting'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -DataSize 1GB -MetadataSize 16MB -AutoextendThreshold 40 } }
        @{ Case = 'metadata autoextend step not in 4 KiB blocks'; Id = 'InvalidSize'; Category = 'InvalidArgument'; Command = { Set-ThinPool web -MetadataAutoextendThreshold 80 -MetadataAutoextendSize 6KB } }
        @{ Case = 'watch a pool that does not exist'; Id = 'PoolNotFound'; Category = 'ObjectNotFound'; Command = { Watch-ThinPool nope -Timeout 1 } }
        @{ Case = 'watch check interval zero'; Id = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Command = { Watch-ThinPool web -Timeout 1 -CheckInterval 0 } }
        @{ Sample = $true; Case = 'volume group name LVM refuses'; Id = 'InvalidName'; Category = 'InvalidArgument'; Command = { New-ThinPool -Name p -VolumeGroup 'a b' -PhysicalDevice $script:blankLoop } }
        @{ Case = 'physical device for a pool not on LVM'; Id = 'InvalidSetting'; Category = 'InvalidArgument'; Command = { Resize-ThinPool web -DataSize 4GB -PhysicalDevice $script:blankLoop } }
    )) {
        $before = Get-SystemState $script:root, $script:scratch
        $caught = $null
        try { $ErrorActionPreference = 'Stop'; & $Command } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty -Because "$Case should fail"
        $caught.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $caught.CategoryInfo.Category | Should -Be $Category
        Get-SystemState $script:root, $script:scratch | Should -BeExactly $before
    }

    # Without CAP_SYS_ADMIN, as a non-root user is: uid 0 stays (pwsh lives under /root), every capability is dropped.
    It 'not running as root: <Case>: NotRoot (PermissionDenied), nothing changed' -ForEach (Select-MatrixCase @(
        @{ Case = 'a new pool'; Command = 'New-ThinPool -Name p -DataSize 1GB -MetadataSize 16MB' }
        @{ Sample = $true; Case = 'a new volume'; Command = 'New-ThinVolume -Pool web -Name v -Size 1GB' }
    )) {
        $before = Get-SystemState $script:root, $script:scratch
        $script = "`$ErrorActionPreference = 'Stop'; Import-Module '$env:DMPS_MODULE_MANIFEST'; try { $Command; 'no error' } catch { `$_.FullyQualifiedErrorId + '|' + `$_.CategoryInfo.Category }"
        $output = & (Resolve-Tool setpriv) --bounding-set=-all --inh-caps=-all --ambient-caps=-all (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $script 2>&1 | Out-String
        $output | Should -Match 'NotRoot,[^|]*\|PermissionDenied' -Because $output
        Get-SystemState $script:root, $script:scratch | Should -BeExactly $before
    }
}
