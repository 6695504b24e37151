# Where the space goes (Get-ThinVolume -Usage, thin_ls) and what changed between volumes
# (Compare-ThinVolume, thin_delta), read from the pool's metadata against the real kernel (guest
# lane only); thin_check after each test. The pool's blocks are 64 KiB, so 1 MiB is 16 of them.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
    function Get-HeldMetadataRoot { (Get-DmStatus use) -split ' ' | Select-Object -Index 6 }
}

Describe 'Usage and differences from the pool''s metadata' -Tag Kernel {
    BeforeEach {
        $root = New-TestStateRoot
        $null = New-ThinPool -Name use -DataSize 512MB -MetadataSize 16MB -BlockSize 64KB -StateRoot $root
    }
    AfterEach { Assert-CleanMetadata -StateRoot $root }

    It 'reports mapped, exclusive and shared bytes block for block, for active and inactive volumes' {
        $base = New-ThinVolume -Pool use -Name base -Size 64MB -StateRoot $root
        Write-Pattern $base.DevicePath 1 -Bytes 4MB
        $null = New-ThinSnapshot -Pool use -Origin base -Name s1, s2 -StateRoot $root
        Write-Pattern '/dev/mapper/use-s1' 2 -Bytes 1MB -Offset 8MB
        Write-Pattern '/dev/mapper/use-s2' 3 -Bytes 2MB -Offset 16MB
        Write-Pattern $base.DevicePath 4 -Bytes 1MB   # the origin's first 1 MiB breaks away from its snapshots
        Disable-ThinVolume -Pool use -Name s2 -StateRoot $root
        (Get-ThinVolume -Pool use -Name s2 -StateRoot $root).MappedBytes | Should -BeNullOrEmpty   # inactive, without -Usage: unknown

        $usage = @{}
        Get-ThinVolume -Pool use -Usage -StateRoot $root | ForEach-Object { $usage[$_.Name] = $_ }
        @($usage.base.MappedBytes, $usage.base.ExclusiveBytes, $usage.base.SharedBytes) | Should -Be @(4MB, 1MB, 3MB)
        @($usage.s1.MappedBytes, $usage.s1.ExclusiveBytes, $usage.s1.SharedBytes) | Should -Be @(5MB, 1MB, 4MB)
        @($usage.s2.MappedBytes, $usage.s2.ExclusiveBytes, $usage.s2.SharedBytes) | Should -Be @(6MB, 2MB, 4MB)
        $usage.s2.Active | Should -BeFalse
        $usage.s1.UsedPercent | Should -Be ([math]::Round(100 * 5MB / 64MB, 2))
        Get-HeldMetadataRoot | Should -Be '-'
        (Get-ThinVolume -Pool use -Usage -StateRoot $root | Sort-Object ExclusiveBytes -Descending)[0].Name | Should -Be 's2'   # removing s2 frees most
        (Get-ThinVolume -Pool use -Usage -StateRoot $root | Format-Table | Out-String) | Should -Match 'Exclusive'

        # An inactive pool's metadata is read at rest.
        Disable-ThinPool use -DeactivateVolumes -StateRoot $root
        $atRest = Get-ThinVolume -Pool use -Usage -StateRoot $root
        ($atRest | Where-Object Name -eq s1).ExclusiveBytes | Should -Be 1MB
        ($atRest | Where-Object Name -eq base).MappedBytes | Should -Be 4MB
    }

    It 'reports the ranges in which two volumes differ, as they were written' {
        $base = New-ThinVolume -Pool use -Name base -Size 64MB -StateRoot $root
        Write-Pattern $base.DevicePath 1 -Bytes 16MB
        $snap = $base | New-ThinSnapshot -Name snap
        Write-Pattern $snap.DevicePath 2 -Bytes 4KB -Offset 1MB    # one block, copied whole
        Write-Pattern $snap.DevicePath 3 -Bytes 1MB -Offset 8MB
        Write-Pattern $snap.DevicePath 4 -Bytes 8MB -Offset 32MB   # beyond what the origin maps
        $ranges = Compare-ThinVolume -Pool use -Reference base -Difference snap -StateRoot $root
        $ranges | ForEach-Object { '{0} {1} {2}' -f $_.Kind, $_.Offset, $_.Length } |
            Should -Be @("Different $(1MB) $(64KB)", "Different $(8MB) $(1MB)", "RightOnly $(32MB) $(8MB)")
        $summary = $snap | Compare-ThinVolume -Reference base -Summary
        $summary.ChangedBytes | Should -Be (64KB + 1MB + 8MB)
        @($summary.DifferentBytes, $summary.RightOnlyBytes, $summary.LeftOnlyBytes) | Should -Be @((64KB + 1MB), 8MB, 0)
        (Compare-ThinVolume -Pool use -Reference snap -Difference base -StateRoot $root | Where-Object Kind -eq LeftOnly).Offset | Should -Be 32MB
        @(Compare-ThinVolume -Pool use -Reference base -Difference base -StateRoot $root).Count | Should -Be 0
        Get-HeldMetadataRoot | Should -Be '-'
        { Compare-ThinVolume -Pool use -Reference base -Difference nothing -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'VolumeNotFound*'
    }

    It 'releases a metadata snapshot that a killed command left held' {
        $null = New-ThinVolume -Pool use -Name base -Size 16MB -StateRoot $root
        # What a kill between reserve_metadata_snap and release_metadata_snap leaves behind.
        Invoke-Tool dmsetup @('message', 'use', '0', 'reserve_metadata_snap') | Out-Null
        Get-HeldMetadataRoot | Should -Not -Be '-'
        $warned = $null
        $null = New-ThinVolume -Pool use -Name next -Size 16MB -StateRoot $root -WarningVariable warned -WarningAction SilentlyContinue
        $warned | Should -Match 'Releasing the metadata snapshot'
        Get-HeldMetadataRoot | Should -Be '-'
        Invoke-Tool dmsetup @('message', 'use', '0', 'reserve_metadata_snap') | Out-Null
        @(Get-ThinVolume -Pool use -Usage -StateRoot $root).Count | Should -Be 2
        Get-HeldMetadataRoot | Should -Be '-'
    }
}
