# The guide's direct-lvm mode end to end (guest lane only): New-ThinPool -VolumeGroup runs the
# guide's LVM steps on loop devices standing in for disks, Resize-ThinPool extends the VG with a
# second device and the pool the way LVM grows it, and the module never sends a thin message to
# the pool. LVM runs with the project's own lvm.conf (LVM_SYSTEM_DIR on tmpfs, udev off).
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane

    $root = New-TestStateRoot
    $disks = Initialize-TestLvm -Root $root

    function Get-Lvs([string] $Fields, [string] $Target = 'dmpsdocker/thinpool') {
        (Invoke-Tool lvs @('--noheadings', '--nosuffix', '--units', 'k', '-o', $Fields, $Target)).Trim()
    }
}

AfterAll {
    Clear-TestLvm -VolumeGroup dmpsdocker, dmpsother -Disk $disks
    Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue
}

Describe 'A thin pool in LVM mode' -Tag Kernel {
    It '-WhatIf lists the guide''s LVM commands and runs none' -Tag FullOnly {
        $command = "Import-Module '$env:DMPS_MODULE_MANIFEST'; New-ThinPool -Name thinpool -VolumeGroup dmpsdocker -PhysicalDevice $($disks[0]) -StateRoot '$root' -WhatIf"
        $output = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $command 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        Write-Host $output
        $output | Should -Match "pvcreate --yes $([regex]::Escape($disks[0]))"
        $output | Should -Match "vgcreate dmpsdocker $([regex]::Escape($disks[0]))"
        $output | Should -Match 'lvcreate --yes --wipesignatures y -n thinpool dmpsdocker -l 95%VG'
        $output | Should -Match 'lvcreate --yes --wipesignatures y -n thinpoolmeta dmpsdocker -l 1%VG'
        $output | Should -Match 'lvconvert --yes --zero n -c 512k --discards passdown --thinpool dmpsdocker/thinpool --poolmetadata dmpsdocker/thinpoolmeta'
        $output | Should -Match 'profile/dmpsdocker-thinpool.profile: thin_pool_autoextend_threshold=80 thin_pool_autoextend_percent=20'
        $output | Should -Match 'lvchange --metadataprofile dmpsdocker-thinpool dmpsdocker/thinpool'
        & (Resolve-Tool pvs) $disks[0] 2>&1 | Out-Null
        $LASTEXITCODE | Should -Not -Be 0 -Because 'nothing was run'
        Get-ThinPool -StateRoot $root | Should -BeNullOrEmpty
    }

    It 'is built by one call with the guide''s result, and LVM agrees' {
        $pool = New-ThinPool -Name thinpool -VolumeGroup dmpsdocker -PhysicalDevice $disks[0] -AutoextendThreshold 80 -AutoextendPercent 20 -StateRoot $root
        $pool.Backing | Should -Be 'Lvm'
        $pool.Active | Should -BeTrue
        $pool.VolumeGroup | Should -Be 'dmpsdocker'
        $pool.DevicePath | Should -Be '/dev/mapper/dmpsdocker-thinpool'
        $pool.BlockSize | Should -Be 512KB
        $pool.LvmMonitoring | Should -Be 'not enabled'            # this lvm.conf has monitoring = 0
        $pool.DataAutoextend.ThresholdPercent | Should -Be 80
        (Get-Lvs 'lv_attr') | Should -BeLike 't*'
        (Get-Lvs 'chunk_size') | Should -Be '512.00'
        (Get-Lvs 'zero') | Should -Not -Match 'zero'
        (Get-Lvs 'lv_profile') | Should -Be 'dmpsdocker-thinpool'
        $profile = Get-Content -Raw (Join-Path $env:LVM_SYSTEM_DIR 'profile/dmpsdocker-thinpool.profile')
        $profile | Should -Match 'thin_pool_autoextend_threshold=80'
        $profile | Should -Match 'thin_pool_autoextend_percent=20'
        # 95% and 1% of a 508 MiB VG (127 extents of 4 MiB).
        $pool.DataSize | Should -Be 480MB
        $status = Get-PoolStatus thinpool -StateRoot $root
        $status.Manager | Should -Be 'Lvm'
        $status.Name | Should -Be 'thinpool'
        $status.PoolBlocksize | Should -Be 512KB
        $status.TransactionId | Should -Be 0
        $status.AutoextendEnabled | Should -BeFalse               # LVM's dmeventd extends it, not a Watch-ThinPool
        Invoke-Tool vgck @('dmpsdocker') | Out-Null
    }

    It 'sends the pool no thin message: volume cmdlets point to LVM, and LVM''s own volumes work' {
        { New-ThinVolume -Pool thinpool -Name v -Size 64MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'PoolNotOwned,*'
        $caught = $null
        try { Test-ThinPool thinpool -StateRoot $root -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'PoolNotOwned,*'
        $caught.Exception.Message | Should -Match 'lvs, vgck'
        (Get-PoolStatus thinpool -StateRoot $root).TransactionId | Should -Be 0
        # LVM's records stay true: its own thin LV, then the pool's thin-pool is dmpsdocker-thinpool-tpool.
        Invoke-Tool lvcreate @('-q', '-T', 'dmpsdocker/thinpool', '-V', '64M', '-n', 'lv1') | Out-Null
        $status = Get-PoolStatus thinpool -StateRoot $root
        $status.ThinVolumeCount | Should -Be 1
        $status.TransactionId | Should -Be 1
        (Get-ThinPool thinpool -StateRoot $root).Active | Should -BeTrue
        Invoke-Tool lvremove @('-q', '-f', 'dmpsdocker/lv1') | Out-Null
        Invoke-Tool vgck @('dmpsdocker') | Out-Null
    }

    It 'refuses devices in use or carrying data, unless -Force for a signature' -Tag FullOnly {
        Invoke-Tool mkfs.ext4 @('-q', $disks[2]) | Out-Null
        { New-ThinPool -Name other -VolumeGroup dmpsother -PhysicalDevice $disks[2] -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceHasSignature,*'
        { New-ThinPool -Name other -VolumeGroup dmpsother -PhysicalDevice $disks[0] -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceInUse,*'
        { New-ThinPool -Name other -VolumeGroup dmpsother -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSetting,*'
        { New-ThinPool -Name thinpool2 -VolumeGroup 'bad vg' -PhysicalDevice $disks[2] -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidName,*'
        & (Resolve-Tool pvs) $disks[2] 2>&1 | Out-Null
        $LASTEXITCODE | Should -Not -Be 0 -Because 'nothing was made of the refused device'
        $null = New-ThinPool -Name other -VolumeGroup dmpsother -PhysicalDevice $disks[2] -DataSize 64MB -MetadataSize 4MB -Force -StateRoot $root
        (Get-Lvs 'lv_size' 'dmpsother/other') | Should -Be '65536.00'
        Remove-ThinPool other -DeleteBackingFiles -Force -StateRoot $root
        Invoke-Tool vgremove @('-q', '-f', 'dmpsother') | Out-Null
    }

    It 'grows with a second device: vgextend, lvextend, and --poolmetadatasize for metadata' {
        $before = Get-ThinPool thinpool -StateRoot $root
        $null = Resize-ThinPool thinpool -DataSize 800MB -MetadataSize 16MB -PhysicalDevice $disks[1] -StateRoot $root -WhatIf
        (Invoke-Tool vgs @('--noheadings', '-o', 'pv_count', 'dmpsdocker')).Trim() | Should -Be '1'
        $pool = Resize-ThinPool thinpool -DataSize 800MB -MetadataSize 16MB -PhysicalDevice $disks[1] -StateRoot $root
        (Invoke-Tool vgs @('--noheadings', '-o', 'pv_count', 'dmpsdocker')).Trim() | Should -Be '2'
        $pool.DataSize | Should -Be 800MB
        $pool.MetadataSize | Should -Be 16MB
        $status = Get-PoolStatus thinpool -StateRoot $root
        $status.DataSpaceTotal | Should -Be 800MB
        $status.MetadataSpaceTotal | Should -Be 16MB
        { Resize-ThinPool thinpool -DataSize 400MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'ShrinkNotSupported,*'
        $before.DataSize | Should -BeLessThan $pool.DataSize
        Invoke-Tool vgck @('dmpsdocker') | Out-Null
        Invoke-Tool lvs @('dmpsdocker') | Out-Null
    }

    It 'is watched and reported on, never extended by the module' -Tag FullOnly {
        $events = @(Watch-ThinPool thinpool -Timeout 2 -CheckInterval 1 -StateRoot $root)
        $events[0].Kind | Should -Be 'Started'
        $events[0].Extends | Should -BeFalse
        $events[0].Message | Should -Match 'LVM manages this pool'
    }

    It 'changes its policies through LVM, is disabled and enabled through LVM, passes thin_check and is removed' {
        Set-ThinPool thinpool -AutoextendThreshold 90 -AutoextendPercent 10 -NoSpacePolicy Error -StateRoot $root
        Get-Content -Raw (Join-Path $env:LVM_SYSTEM_DIR 'profile/dmpsdocker-thinpool.profile') | Should -Match 'thin_pool_autoextend_threshold=90'
        (Get-Lvs 'lv_when_full') | Should -Be 'error'
        (Get-PoolStatus thinpool -StateRoot $root).NoSpacePolicy | Should -Be 'Error'
        { Set-ThinPool thinpool -MetadataAutoextendThreshold 70 -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'PoolNotOwned,*'

        Disable-ThinPool thinpool -StateRoot $root
        (Get-ThinPool thinpool -StateRoot $root).Active | Should -BeFalse
        (Get-Lvs 'lv_active') | Should -BeNullOrEmpty
        # thin_check on the metadata, through LVM's read-only component activation.
        Invoke-Tool lvchange @('-q', '-ay', '-y', 'dmpsdocker/thinpool_tmeta') | Out-Null
        $check = Test-ThinMetadata /dev/mapper/dmpsdocker-thinpool_tmeta
        Invoke-Tool lvchange @('-q', '-an', 'dmpsdocker/thinpool_tmeta') | Out-Null
        $check | Should -BeNullOrEmpty
        $null = Enable-ThinPool thinpool -StateRoot $root
        (Get-ThinPool thinpool -StateRoot $root).Active | Should -BeTrue

        Remove-ThinPool thinpool -DeleteBackingFiles -Force -StateRoot $root
        & (Resolve-Tool lvs) dmpsdocker/thinpool 2>&1 | Out-Null
        $LASTEXITCODE | Should -Not -Be 0
        Test-Path (Join-Path $env:LVM_SYSTEM_DIR 'profile/dmpsdocker-thinpool.profile') | Should -BeFalse
        Invoke-Tool vgck @('dmpsdocker') | Out-Null                 # the VG and its PVs stay
        Get-ThinPool -StateRoot $root | Should -BeNullOrEmpty
    }
}
