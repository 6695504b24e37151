# Test-ThinPool and Repair-ThinPool against the real kernel (guest lane only): disagreements made
# by hand with dmsetup or by deleting records, found, then repaired; thin_check after each test.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
}

Describe 'Test-ThinPool and Repair-ThinPool' -Tag Kernel {
    BeforeEach {
        $root = New-TestStateRoot
        $pool = New-ThinPool -Name web -DataSize 1GB -MetadataSize 16MB -StateRoot $root
        $base = $pool | New-ThinVolume -Name base -Size 64MB
        Write-Pattern $base.DevicePath 1
        $layer1 = $base | New-ThinSnapshot -Name layer1
        $idle = $pool | New-ThinVolume -Name idle -Size 64MB -Inactive
        $hashes = @{ base = Get-DeviceHash $base.DevicePath; layer1 = Get-DeviceHash $layer1.DevicePath }
    }
    AfterEach { Assert-CleanMetadata -StateRoot $root }

    It 'finds nothing wrong with a healthy pool, and releases its metadata snapshot' {
        Test-ThinPool web -StateRoot $root | Should -BeNullOrEmpty
        Test-ThinPool web -StateRoot $root -Quiet | Should -BeTrue
        (Get-DmStatus web) -split ' ' | Select-Object -Index 6 | Should -Be '-'   # no held metadata root
        Disable-ThinPool web -DeactivateVolumes -StateRoot $root
        @(Test-ThinPool web -StateRoot $root).Kind | Should -Be @('Inactive')
        Test-ThinPool web -StateRoot $root -Quiet | Should -BeTrue
    }

    It 'adopts thin ids with no record, drops records with no thin id, and never deletes what it did not create' {
        # A thin id made by hand (not the module's), a record lost, a thin id deleted by hand.
        Invoke-Tool dmsetup @('message', 'web', '0', 'create_thin', '500') | Out-Null
        Remove-Item (Join-Path $root "pools/web/volumes/$($layer1.ThinId).json"), (Join-Path $root 'pools/web/names/layer1')
        Invoke-Tool dmsetup @('message', 'web', '0', 'delete', "$($idle.ThinId)") | Out-Null
        $problems = Test-ThinPool web -StateRoot $root
        ($problems | Where-Object Kind -eq 'UnrecordedThinId').ThinId | Sort-Object | Should -Be @($layer1.ThinId, 500)
        ($problems | Where-Object Kind -eq 'UnrecordedThinId' | Where-Object ThinId -eq $layer1.ThinId).Name | Should -Be 'layer1'
        ($problems | Where-Object Kind -eq 'MissingThinId').Name | Should -Be 'idle'

        $before = Get-ChildItem -Recurse $root | ForEach-Object FullName
        $plan = Repair-ThinPool web -StateRoot $root -WhatIf
        $plan.Done | Should -Not -Contain $true
        Get-ChildItem -Recurse $root | ForEach-Object FullName | Should -Be $before

        $warnings = $null
        $repairs = Repair-ThinPool web -StateRoot $root -DeleteUnrecorded -Force -WarningVariable warnings
        $repairs.Done | Should -Not -Contain $false
        $warnings | Should -Match 'was not handed out by this module|is active'
        $volumes = Get-ThinVolume -Pool web -StateRoot $root
        $volumes.Name | Sort-Object | Should -Be @('base', 'layer1', 'recovered-500')
        ($volumes | Where-Object Name -eq 'layer1').Size | Should -Be 64MB
        Get-DeviceHash (Get-ThinVolume -Pool web -Name layer1 -StateRoot $root).DevicePath | Should -Be $hashes.layer1
        Get-DeviceHash $base.DevicePath | Should -Be $hashes.base
        Test-ThinPool web -StateRoot $root | Should -BeNullOrEmpty
        # New ids never collide with the adopted one.
        (New-ThinVolume -Pool web -Name after -Size 8MB -StateRoot $root).ThinId | Should -BeGreaterThan 500
    }

    It 'deletes an unrecorded thin id it handed out, only with -DeleteUnrecorded' -Tag FullOnly {
        Disable-ThinVolume web layer1 -StateRoot $root
        Remove-Item (Join-Path $root "pools/web/volumes/$($layer1.ThinId).json"), (Join-Path $root 'pools/web/names/layer1')
        $repairs = Repair-ThinPool web -StateRoot $root -DeleteUnrecorded -Force
        # The record deleted by hand also left the registry's summary counting it: rewritten first.
        $repairs.Kind | Should -Be @('StaleSummary', 'UnrecordedThinId')
        ($repairs | Where-Object Kind -eq UnrecordedThinId).Action | Should -Match "delete thin id $($layer1.ThinId)"
        @(Get-ThinVolume -Pool web -StateRoot $root).Name | Sort-Object | Should -Be @('base', 'idle')
        Test-ThinPool web -StateRoot $root | Should -BeNullOrEmpty
        Get-DeviceHash $base.DevicePath | Should -Be $hashes.base
    }

    It 'rebuilds a lost registry entirely from the running pool, data intact' {
        Remove-Item -Recurse (Join-Path $root 'pools/web/pool.json'), (Join-Path $root 'pools/web/volumes'), (Join-Path $root 'pools/web/names')
        { Get-ThinPool web -StateRoot $root -ErrorAction Stop } | Should -Throw
        Repair-ThinPool web -StateRoot $root | Out-Null
        $rebuilt = Get-ThinPool web -StateRoot $root
        $rebuilt.Id | Should -Be $pool.Id
        $rebuilt.DataSize | Should -Be 1GB
        $rebuilt.BlockSize | Should -Be $pool.BlockSize
        $rebuilt.DataPath | Should -Be $pool.DataPath
        $volumes = Get-ThinVolume -Pool web -StateRoot $root
        ($volumes | Where-Object Active).Name | Sort-Object | Should -Be @('base', 'layer1')
        ($volumes | Where-Object Name -eq 'base').ThinId | Should -Be $base.ThinId
        ($volumes | Where-Object { -not $_.Active }).Name | Should -Be "recovered-$($idle.ThinId)"
        Get-DeviceHash $base.DevicePath | Should -Be $hashes.base
        Test-ThinPool web -StateRoot $root | Should -BeNullOrEmpty
    }

    It 'repairs damaged metadata into a spare, keeping the original, and brings the pool back' {
        Disable-ThinPool web -DeactivateVolumes -StateRoot $root
        $metadata = $pool.MetadataPath
        $original = [IO.File]::ReadAllBytes($metadata)
        # Damage one metadata block after another until thin_check notices.
        $damaged = $false
        foreach ($block in 1..64) {
            $bytes = $original.Clone()
            $noise = [byte[]]::new(4096); [Random]::new($block).NextBytes($noise)
            [Array]::Copy($noise, 0, $bytes, $block * 4096, 4096)
            [IO.File]::WriteAllBytes($metadata, $bytes)
            if (Test-ThinMetadata $metadata) { $damaged = $true; break }
        }
        $damaged | Should -BeTrue
        (Test-ThinPool web -StateRoot $root).Kind | Should -Contain 'MetadataDamaged'
        $repairs = Repair-ThinPool web -StateRoot $root -WarningVariable warnings
        ($repairs | Where-Object Kind -eq 'MetadataDamaged').Done | Should -BeTrue
        $warnings | Should -Match 'kept as'
        $kept = @(Get-ChildItem (Split-Path $metadata) -Filter 'metadata.damaged-*')
        $kept.Count | Should -Be 1
        Test-ThinMetadata $metadata | Should -BeNullOrEmpty
        (Get-ThinPool web -StateRoot $root).Active | Should -BeTrue
        (Get-PoolStatus web -StateRoot $root).Health | Should -Be 'Ok'
        (New-ThinVolume -Pool web -Name fresh -Size 8MB -StateRoot $root).Active | Should -BeTrue
        Remove-Item $kept.FullName
    }

    It 'exports a running pool, and restores it after its metadata is lost, keeping what it replaced' {
        $folder = Join-Path $root 'backup'
        $backup = Export-ThinPool web -Path $folder -StateRoot $root
        $backup.Volumes | Should -Be 3
        (Invoke-Tool stat @('-c', '%a', $backup.MetadataFile)).Trim() | Should -Be '600'
        ([xml](Get-Content -Raw $backup.MetadataFile)).superblock.device.Count | Should -Be 3
        (Get-DmStatus web) -split ' ' | Select-Object -Index 6 | Should -Be '-'   # the metadata snapshot is released

        $null = New-ThinVolume -Pool web -Name scratch -Size 8MB -StateRoot $root
        Disable-ThinPool web -DeactivateVolumes -StateRoot $root
        $zeros = [byte[]]::new(4096)
        $stream = [IO.File]::Open($pool.MetadataPath, 'Open', 'ReadWrite'); try { $stream.Write($zeros, 0, 4096) } finally { $stream.Dispose() }
        Test-ThinMetadata $pool.MetadataPath | Should -Not -BeNullOrEmpty

        $restored = Restore-ThinPool web -Path $folder -Force -StateRoot $root -WarningVariable warnings
        $restored.TransactionId | Should -Be $backup.TransactionId
        $warnings | Should -Match 'kept as'
        @(Get-ChildItem (Split-Path $pool.MetadataPath) -Filter 'metadata.before-restore-*').Count | Should -Be 1
        Test-ThinMetadata $pool.MetadataPath | Should -BeNullOrEmpty
        Enable-ThinPool web -StateRoot $root
        (Get-ThinVolume -Pool web -StateRoot $root).Name | Sort-Object | Should -Be @('base', 'idle', 'layer1')
        Get-DeviceHash $base.DevicePath | Should -Be $hashes.base
        Get-DeviceHash (Get-ThinVolume -Pool web -Name layer1 -StateRoot $root).DevicePath | Should -Be $hashes.layer1
        Test-ThinPool web -StateRoot $root | Should -BeNullOrEmpty
        (New-ThinVolume -Pool web -Name after -Size 8MB -StateRoot $root).Active | Should -BeTrue
    }

    It 'refuses to restore an active pool, or from a folder with no export, changing nothing' -Tag FullOnly {
        $folder = Join-Path $root 'backup2'
        $null = Export-ThinPool web -Path $folder -StateRoot $root
        { Restore-ThinPool web -Path $folder -Force -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'PoolActive,*'
        { Restore-ThinPool web -Path (Join-Path $root 'nothing') -Force -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'BackupNotFound,*'
        Test-ThinPool web -StateRoot $root | Should -BeNullOrEmpty
    }

    It 'leaves a pool it does not own to its owner' -Tag FullOnly {
        $caught = $null
        try { Repair-ThinPool nosuch -StateRoot $root -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'PoolNotFound,*'
    }

    It 'repairs a pool the kernel flagged needs_check: read-only until then, writable and whole after' {
        Disable-ThinPool web -DeactivateVolumes -StateRoot $root
        Set-NeedsCheckFlag $pool.MetadataPath
        (Test-ThinPool web -StateRoot $root).Kind | Should -Contain 'NeedsCheck'   # read from the superblock at rest
        Enable-ThinPool web -StateRoot $root
        $status = Get-PoolStatus web -StateRoot $root
        $status.NeedsCheck | Should -BeTrue
        $status.Mode | Should -Be 'ReadOnly'
        (Test-ThinPool web -StateRoot $root).Kind | Should -Contain 'NeedsCheck'
        $plan = Repair-ThinPool web -WhatIf -StateRoot $root 6>&1 | Out-String
        $plan | Should -Match 'thin_repair'
        (Get-PoolStatus web -StateRoot $root).NeedsCheck | Should -BeTrue   # -WhatIf changed nothing

        Enable-ThinVolume -Pool web -Name base -StateRoot $root
        $repairs = Repair-ThinPool web -StateRoot $root -WarningAction SilentlyContinue
        ($repairs | Where-Object Kind -eq 'NeedsCheck').Done | Should -BeTrue
        $status = Get-PoolStatus web -StateRoot $root
        $status.NeedsCheck | Should -BeFalse
        $status.Mode | Should -Be 'ReadWrite'
        (Get-ThinVolume -Pool web -Name base -StateRoot $root).Active | Should -BeTrue   # brought back as it was
        Get-DeviceHash $base.DevicePath | Should -Be $hashes.base
        Test-Path (Join-Path $root 'pools/web/repair.json') | Should -BeFalse
        (New-ThinVolume -Pool web -Name fresh -Size 8MB -StateRoot $root).Active | Should -BeTrue
        Test-ThinPool web -StateRoot $root | Should -BeNullOrEmpty
    }

    It 'records the size of a live table that disagrees with its record' -Tag FullOnly {
        $table = (Get-DmTable web-base) -split ' '
        $table[1] = "$([long]$table[1] * 2)"
        Invoke-Tool dmsetup @('suspend', 'web-base') | Out-Null
        Invoke-Tool dmsetup @('load', 'web-base', '--table', ($table -join ' ')) | Out-Null
        Invoke-Tool dmsetup @('resume', 'web-base') | Out-Null
        $problem = Test-ThinPool web -StateRoot $root
        $problem.Kind | Should -Be 'SizeMismatch'
        $problem.Name | Should -Be 'base'
        $null = Repair-ThinPool web -StateRoot $root
        (Get-ThinVolume -Pool web -Name base -StateRoot $root).Size | Should -Be 128MB
        Test-ThinPool web -StateRoot $root | Should -BeNullOrEmpty
    }

    It 'releases a metadata snapshot that an interrupted command left held' -Tag FullOnly {
        Invoke-Tool dmsetup @('message', 'web', '0', 'reserve_metadata_snap') | Out-Null
        (Get-DmStatus web) -split ' ' | Select-Object -Index 6 | Should -Not -Be '-'
        $backup = Export-ThinPool web -Path (Join-Path $root 'held') -StateRoot $root
        $backup.Volumes | Should -Be 3
        (Get-DmStatus web) -split ' ' | Select-Object -Index 6 | Should -Be '-'
        Test-ThinPool web -StateRoot $root | Should -BeNullOrEmpty
    }

    It 'repairs the metadata of a pool on block devices into a spare device, leaving the damaged one as it was' -Tag FullOnly {
        $files = 'data', 'meta', 'spare' | ForEach-Object { Join-Path $root "direct-$_" }
        & (Resolve-Tool truncate) -s 256M $files[0]; & (Resolve-Tool truncate) -s 8M $files[1] $files[2]
        $loops = $files | ForEach-Object { (Invoke-Tool losetup @('-f', '--show', $_)).Trim() }
        try {
            $direct = New-ThinPool -Name direct -DataDevice $loops[0] -MetadataDevice $loops[1] -StateRoot $root
            $volume = $direct | New-ThinVolume -Name dv -Size 32MB
            Write-Pattern $volume.DevicePath 9
            $hash = Get-DeviceHash $volume.DevicePath
            Disable-ThinPool direct -DeactivateVolumes -StateRoot $root
            Set-NeedsCheckFlag $loops[1]
            Enable-ThinPool direct -StateRoot $root
            (Get-PoolStatus direct -StateRoot $root).NeedsCheck | Should -BeTrue

            { Repair-ThinPool direct -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'SpareDeviceRequired,*'
            { Repair-ThinPool direct -SpareDevice $loops[0] -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'SameDataAndMetadataDevice,*'
            (Get-PoolStatus direct -StateRoot $root).NeedsCheck | Should -BeTrue   # refused before anything changed

            $null = Repair-ThinPool direct -SpareDevice $loops[2] -StateRoot $root -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings | Should -Match ([regex]::Escape($loops[1]))
            $pool2 = Get-ThinPool direct -StateRoot $root
            $pool2.MetadataPath | Should -Be $loops[2]
            (Get-PoolStatus direct -StateRoot $root).NeedsCheck | Should -BeFalse
            $table = (Get-DmTable direct) -split ' '
            $table[3] | Should -Be ((Invoke-Tool lsblk @('-dno', 'MAJ:MIN', $loops[2])).Trim())
            Enable-ThinVolume -Pool direct -Name dv -StateRoot $root -ErrorAction SilentlyContinue
            Get-DeviceHash $volume.DevicePath | Should -Be $hash
            Test-ThinPool direct -StateRoot $root | Should -BeNullOrEmpty
            Remove-ThinPool direct -DeactivateVolumes -Force -StateRoot $root
            Test-ThinMetadata $loops[2] | Should -BeNullOrEmpty
        }
        finally {
            Remove-ThinPool direct -DeactivateVolumes -Force -StateRoot $root -ErrorAction SilentlyContinue
            Invoke-Tool losetup (@('-d') + $loops) -AllowFailure | Out-Null
        }
    }
}
