# Restore-ThinVolume against the real kernel (guest lane only): a volume goes back to a snapshot's
# content, the snapshot stays, the old content is kept; refused while mounted. thin_check after.
# The kill points of its transaction are in tests/Kernel (CrashConsistencyTests, "revert").
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
}

Describe 'Restore-ThinVolume' -Tag Kernel {
    BeforeEach {
        $root = New-TestStateRoot
        $null = New-ThinPool -Name back -DataSize 512MB -MetadataSize 16MB -StateRoot $root
        $mount = Join-Path $root 'mnt'
        New-Item -ItemType Directory $mount | Out-Null
    }
    AfterEach {
        Invoke-Tool umount @($mount) -AllowFailure | Out-Null
        Assert-CleanMetadata -StateRoot $root
    }

    It 'takes a volume back to a snapshot, keeps the old content, and refuses while mounted' {
        $base = New-ThinVolume -Pool back -Name base -Size 32MB -FileSystem ext4 -StateRoot $root
        Invoke-Tool mount @($base.DevicePath, $mount) | Out-Null
        Set-Content "$mount/state" 'first'
        Invoke-Tool umount @($mount) | Out-Null
        $snap = New-ThinSnapshot -Pool back -Origin base -Name s1 -StateRoot $root
        $snapHash = Get-DeviceHash $snap.DevicePath -Bytes 32MB

        Invoke-Tool mount @($base.DevicePath, $mount) | Out-Null
        Set-Content "$mount/state" 'second'
        { Restore-ThinVolume -Pool back -Name base -Snapshot s1 -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceInUse*'
        Get-Content "$mount/state" | Should -Be 'second'
        Invoke-Tool umount @($mount) | Out-Null
        $secondHash = Get-DeviceHash $base.DevicePath -Bytes 32MB

        Restore-ThinVolume -Pool back -Name base -Snapshot s1 -WhatIf -StateRoot $root
        (Get-ThinVolume -Pool back -StateRoot $root).Name | Sort-Object | Should -Be @('base', 's1')
        Get-DeviceHash $base.DevicePath -Bytes 32MB | Should -Be $secondHash

        $restored = Restore-ThinVolume -Pool back -Name base -Snapshot s1 -PassThru -StateRoot $root
        $restored.Name | Should -Be 'base'
        $restored.Active | Should -BeTrue
        $restored.Origin | Should -Be 's1'
        $restored.ThinId | Should -Not -Be $base.ThinId
        Get-DeviceHash $base.DevicePath -Bytes 32MB | Should -Be $snapHash
        Get-DeviceHash $snap.DevicePath -Bytes 32MB | Should -Be $snapHash
        Invoke-Tool mount @($base.DevicePath, $mount) | Out-Null
        Get-Content "$mount/state" | Should -Be 'first'
        Set-Content "$mount/state" 'third'
        Invoke-Tool umount @($mount) | Out-Null

        $kept = Get-ThinVolume -Pool back -Name base.before-restore -StateRoot $root
        $kept.ThinId | Should -Be $base.ThinId
        $kept.Active | Should -BeFalse
        $kept = $kept | Enable-ThinVolume -PassThru
        Get-DeviceHash $kept.DevicePath -Bytes 32MB | Should -Be $secondHash

        # Back to the same snapshot again, this time dropping what the volume holds.
        $null = Restore-ThinVolume -Pool back -Name base -Snapshot s1 -Discard -StateRoot $root
        Get-DeviceHash $base.DevicePath -Bytes 32MB | Should -Be $snapHash
        (Get-ThinVolume -Pool back -StateRoot $root).Name | Sort-Object | Should -Be @('base', 'base.before-restore', 's1')

        $null = New-ThinVolume -Pool back -Name stranger -Size 8MB -StateRoot $root
        { Restore-ThinVolume -Pool back -Name base -Snapshot stranger -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'SnapshotNotRelated*'
        Test-ThinPool back -StateRoot $root | Should -BeNullOrEmpty
    }
}
