# Thin pools against the real kernel (guest lane only). After every test the metadata of
# every pool the test made must pass thin_check.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
}

Describe 'Thin pools in loop mode' -Tag Kernel {
    BeforeEach { $root = New-TestStateRoot }
    AfterEach { Assert-CleanMetadata -StateRoot $root }

    It 'creates a 64 KiB-block pool on sparse files that Docker would accept' {
        $pool = New-ThinPool -Name web -DataSize 1GB -MetadataSize 16MB -StateRoot $root
        $pool.Active | Should -BeTrue
        $pool.DevicePath | Should -Be '/dev/mapper/web'
        Test-Path /dev/mapper/web | Should -BeTrue
        $pool.DataDevice | Should -Match '^/dev/loop\d+$'
        (Get-Item $pool.DataPath).Length | Should -Be 1GB
        (Get-Item $pool.MetadataPath).Length | Should -Be 16MB
        (Get-Item $pool.DataPath).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        (Get-Item (Split-Path $pool.DataPath)).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
        (Get-Item (Join-Path $root 'pools/web/pool.json')).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')

        # Block zeroing stays on: no skip_block_zeroing feature in the table.
        Get-DmTable web | Should -Match "^0 2097152 thin-pool \d+:\d+ \d+:\d+ 128 1639 0$"
        # Docker refuses a pool with a transaction id or used blocks: a new one has neither.
        Get-DmStatus web | Should -Match '^0 2097152 thin-pool 0 \d+/4096 0/16384 - rw discard_passdown queue_if_no_space - \d+$'
        Get-LoopBackingFiles | Should -Contain $pool.DataPath
    }

    It 'writes the settings it is given into the table' -Tag FullOnly {
        New-ThinPool -Name opts -DataSize 512MB -MetadataSize 8MB -BlockSize 512KB -LowWaterMark 100 -SkipBlockZeroing `
            -DiscardMode NoPassdown -NoSpacePolicy Error -MinimumFreeSpacePercent 20 -StateRoot $root | Out-Null
        Get-DmTable opts | Should -Match '^0 1048576 thin-pool \d+:\d+ \d+:\d+ 1024 100 3 skip_block_zeroing no_discard_passdown error_if_no_space$'
        $status = Get-PoolStatus opts -StateRoot $root
        $status.DiscardMode | Should -Be 'NoPassdown'
        $status.NoSpacePolicy | Should -Be 'Error'
        $status.PoolBlocksize | Should -Be 512KB
        $status.MinFreeSpace | Should -Be ([long][math]::Floor(512MB * 20 / 100))
    }

    It 'changes its policies with Set-ThinPool: the record, and the table for the no-space behaviour' {
        $pool = New-ThinPool -Name pol -DataSize 512MB -MetadataSize 8MB -StateRoot $root
        $volume = $pool | New-ThinVolume -Name v -Size 32MB -StateRoot $root
        Write-Pattern $volume.DevicePath 5
        $hash = Get-DeviceHash $volume.DevicePath
        $before = Get-DmTable pol
        Set-ThinPool pol -NoSpacePolicy Error -AutoextendThreshold 80 -StateRoot $root -WhatIf   # its plan: Contract.Tests.ps1
        Get-DmTable pol | Should -Be $before
        (Get-ThinPool pol -StateRoot $root).DataAutoextend.Enabled | Should -BeFalse

        $changed = Set-ThinPool pol -NoSpacePolicy Error -MinimumFreeSpacePercent 5 -AutoextendThreshold 80 -AutoextendSize 128MB -MaximumDataSize 2GB `
            -MetadataAutoextendThreshold 90 -PassThru -StateRoot $root
        Get-DmTable pol | Should -Match ' error_if_no_space$'
        (Get-PoolStatus pol -StateRoot $root).NoSpacePolicy | Should -Be 'Error'
        $changed.MinimumFreeSpacePercent | Should -Be 5
        $changed.DataAutoextend.ThresholdPercent | Should -Be 80
        $changed.DataAutoextend.StepBytes | Should -Be 128MB
        $changed.MetadataAutoextend.ThresholdPercent | Should -Be 90
        ($changed | Format-List | Out-String) | Should -Match 'DataAutoextend\s*:\s*at 80% used, \+128 MiB, up to 2 GiB'
        Get-DeviceHash $volume.DevicePath | Should -Be $hash   # the reload kept the data
        (Get-ThinVolume -Pool pol -Name v -StateRoot $root).Active | Should -BeTrue

        # Kept across a restart of the pool: the record holds them, the table is rebuilt from it.
        Disable-ThinPool pol -DeactivateVolumes -StateRoot $root
        Enable-ThinPool pol -StateRoot $root
        Get-DmTable pol | Should -Match ' error_if_no_space$'
        (Get-ThinPool pol -StateRoot $root).DataAutoextend.MaximumSize | Should -Be 2GB
        { Set-ThinPool pol -AutoextendThreshold 40 -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Set-ThinPool pol -MaximumDataSize 256MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSize,*'
    }

    It 'reports what docker info shows, typed' {
        New-ThinPool -Name info -DataSize 1GB -MetadataSize 16MB -StateRoot $root | Out-Null
        $status = Get-PoolStatus -Name info -StateRoot $root
        $status.PoolName | Should -Be 'info'
        $status.Name | Should -Be 'info'
        $status.Manager | Should -Be 'DmPowerShell'
        $status.PoolBlocksize | Should -Be 65536
        $status.DataFile | Should -Match '^/dev/loop\d+$'
        $status.MetadataFile | Should -Match '^/dev/loop\d+$'
        $status.DataLoopFile | Should -Be (Join-Path $root 'pools/info/data')
        $status.MetadataLoopFile | Should -Be (Join-Path $root 'pools/info/metadata')
        $status.DataSpaceTotal | Should -Be 1GB
        $status.DataSpaceUsed | Should -Be 0
        $status.DataSpaceAvailable | Should -BeLessOrEqual 1GB
        $status.MetadataSpaceTotal | Should -Be 16MB
        $status.MetadataSpaceUsed | Should -BeGreaterThan 0
        $status.MinFreeSpace | Should -Be ([long][math]::Floor(1GB / 10))
        $status.LibraryVersion | Should -Match '^1\.02\.'
        $status.UdevSyncSupported | Should -BeFalse   # no udev runs in the guest
        $status.Health | Should -Be 'Ok'
        $status.TransactionId | Should -Be 0
        $status.Mode | Should -Be 'ReadWrite'
        $status.NeedsCheck | Should -BeFalse
        $status.MetadataLowWatermark | Should -BeGreaterThan 0
        $status.ThinVolumeCount | Should -Be 0
        $status.OverProvisioningRatio | Should -Be 0
        (Get-ThinPool -StateRoot $root | Get-PoolStatus -StateRoot $root).PoolName | Should -Be 'info'
    }

    It 'lists pools it did not create, and leaves them alone' -Tag FullOnly {
        $folder = Join-Path $root 'foreign'
        New-Item -ItemType Directory $folder | Out-Null
        Invoke-Tool truncate @('-s', '256M', "$folder/data") | Out-Null
        Invoke-Tool truncate @('-s', '8M', "$folder/meta") | Out-Null
        $data = (Invoke-Tool losetup @('-f', '--show', "$folder/data")).Trim()
        $meta = (Invoke-Tool losetup @('-f', '--show', "$folder/meta")).Trim()
        try {
            Invoke-Tool dmsetup @('create', 'foreign-pool', '--table', "0 524288 thin-pool $meta $data 128 0") | Out-Null
            $all = Get-PoolStatus -StateRoot $root
            $foreign = $all | Where-Object PoolName -eq 'foreign-pool'
            $foreign.Manager | Should -Be 'Other'
            $foreign.DataSpaceTotal | Should -Be 256MB
            $foreign.DataLoopFile | Should -Be "$folder/data"
            (Get-PoolStatus -Name foreign-pool -StateRoot $root).DataSpaceTotal | Should -Be 256MB
            { Remove-ThinPool -Name foreign-pool -Force -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'PoolNotFound,*'
            Test-Path /dev/mapper/foreign-pool | Should -BeTrue
        }
        finally {
            Invoke-Tool dmsetup @('remove', 'foreign-pool') -AllowFailure | Out-Null
            Invoke-Tool losetup @('-d', $data, $meta) -AllowFailure | Out-Null
        }
        Test-ThinMetadata "$folder/meta" | Should -BeNullOrEmpty
    }

    It 'grows a 100GB pool to 200GB as the guide does, and Data Space Total follows' {
        New-ThinPool -Name grow -DataSize 100GB -MetadataSize 128MB -StateRoot $root -WarningAction SilentlyContinue | Out-Null
        (Get-PoolStatus grow -StateRoot $root).DataSpaceTotal | Should -Be 100GB
        Resize-ThinPool grow -DataSize 200GB -StateRoot $root -WarningAction SilentlyContinue | Out-Null
        (Get-Item (Join-Path $root 'pools/grow/data')).Length | Should -Be 214748364800
        Get-DmTable grow | Should -Match '^0 419430400 thin-pool '
        (Get-PoolStatus grow -StateRoot $root).DataSpaceTotal | Should -Be 200GB
        (Get-ThinPool grow -StateRoot $root).DataSize | Should -Be 200GB
    }

    It 'grows metadata, and refuses to shrink' -Tag FullOnly {
        New-ThinPool -Name meta -DataSize 1GB -MetadataSize 8MB -StateRoot $root | Out-Null
        Resize-ThinPool meta -MetadataSize 32MB -StateRoot $root | Out-Null
        (Get-PoolStatus meta -StateRoot $root).MetadataSpaceTotal | Should -Be 32MB
        { Resize-ThinPool meta -DataSize 512MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'ShrinkNotSupported,*'
        { Resize-ThinPool meta -MetadataSize 16MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'ShrinkNotSupported,*'
        (Get-PoolStatus meta -StateRoot $root).DataSpaceTotal | Should -Be 1GB
    }

    It 'keeps a mounted thin volume working, data intact, while the pool grows' -Tag FullOnly {
        $pool = New-ThinPool -Name live -DataSize 256MB -MetadataSize 8MB -StateRoot $root
        Invoke-Tool dmsetup @('message', 'live', '0', 'create_thin 1') | Out-Null
        Invoke-Tool dmsetup @('create', 'live-vol', '--table', "0 2097152 thin $($pool.DevicePath) 1") | Out-Null
        $mount = Join-Path $root 'mnt'
        New-Item -ItemType Directory $mount | Out-Null
        try {
            Invoke-Tool mkfs.ext4 @('-q', '/dev/mapper/live-vol') | Out-Null
            Invoke-Tool mount @('/dev/mapper/live-vol', $mount) | Out-Null
            $bytes = [byte[]]::new(8MB); [Random]::new(7).NextBytes($bytes)
            [IO.File]::WriteAllBytes("$mount/before", $bytes)
            $hash = (Get-FileHash "$mount/before").Hash
            { Disable-ThinPool live -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'VolumesActive,*'
            Resize-ThinPool live -DataSize 512MB -StateRoot $root | Out-Null
            (Get-PoolStatus live -StateRoot $root).ThinVolumeCount | Should -Be 1
            [IO.File]::WriteAllBytes("$mount/after", $bytes)
            Invoke-Tool sync | Out-Null
            (Get-FileHash "$mount/before").Hash | Should -Be $hash
            (Get-PoolStatus live -StateRoot $root).DataSpaceTotal | Should -Be 512MB
        }
        finally {
            Invoke-Tool umount @($mount) -AllowFailure | Out-Null
        }
        Invoke-Tool fsck.ext4 @('-fn', '/dev/mapper/live-vol') | Out-Null
    }

    It 'survives a restart: everything torn down, then activated again from what persisted' -Tag FullOnly {
        $pool = New-ThinPool -Name boot -DataSize 512MB -MetadataSize 8MB -SkipBlockZeroing -StateRoot $root
        Invoke-Tool dmsetup @('message', 'boot', '0', 'create_thin 5') | Out-Null
        Invoke-Tool dmsetup @('message', 'boot', '0', 'set_transaction_id 0 1') | Out-Null
        $table = Get-DmTable boot
        # A reboot, as the kernel sees it: the dm device and both loops are gone.
        Invoke-Tool dmsetup @('remove', 'boot') | Out-Null
        foreach ($loop in $pool.DataDevice, $pool.MetadataDevice) { Invoke-Tool losetup @('-d', $loop) -AllowFailure | Out-Null }
        Start-Sleep -Milliseconds 200
        Get-LoopBackingFiles | Should -Not -Contain $pool.DataPath
        (Get-ThinPool boot -StateRoot $root).Active | Should -BeFalse

        # Exactly what the boot-time unit runs, in a fresh pwsh that finds the module by name.
        $unit = Get-Content (Join-Path $PSScriptRoot '../../../packaging/systemd/dmpowershell-pools.service')
        $execStart = $unit | Where-Object { $_ -like 'ExecStart=*' }
        $command = [regex]::Match($execStart, '-Command "(.+)"$').Groups[1].Value
        $command | Should -Match 'Import-Module DmPowerShell; Enable-ThinPool -All'
        $modules = Split-Path (Split-Path (Split-Path $env:DMPS_MODULE_MANIFEST))
        $env:PSModulePath = "$modules$([IO.Path]::PathSeparator)$env:PSModulePath"
        $savedRoot = $env:DMPS_STATE_ROOT
        $env:DMPS_STATE_ROOT = $root
        try { $output = & (Join-Path $PSHOME 'pwsh') -NoLogo -NoProfile -NonInteractive -Command $command 2>&1 | Out-String }
        finally { $env:DMPS_STATE_ROOT = $savedRoot }
        $LASTEXITCODE | Should -Be 0 -Because $output

        (Get-ThinPool boot -StateRoot $root).Active | Should -BeTrue
        ((Get-DmTable boot) -replace '\d+:\d+', 'M:m') | Should -Be ($table -replace '\d+:\d+', 'M:m')
        (Get-PoolStatus boot -StateRoot $root).TransactionId | Should -Be 1
        Invoke-Tool dmsetup @('message', 'boot', '0', 'delete 5') | Out-Null
    }

    It 'disables keeping everything, and enables again' {
        $pool = New-ThinPool -Name idle -DataSize 256MB -MetadataSize 8MB -StateRoot $root
        Disable-ThinPool idle -StateRoot $root
        Test-Path /dev/mapper/idle | Should -BeFalse
        Start-Sleep -Milliseconds 200
        Get-LoopBackingFiles | Should -Not -Contain $pool.DataPath
        Test-Path $pool.DataPath | Should -BeTrue
        $again = Enable-ThinPool idle -StateRoot $root -PassThru
        $again.Active | Should -BeTrue
        Enable-ThinPool idle -StateRoot $root   # already active: nothing to do, no error

        # A Resize-ThinPool cut short by a power cut after the files grew (the replay's finding):
        # the pool comes up at the files' size and the record follows, with a warning.
        Disable-ThinPool idle -StateRoot $root
        & truncate -s 384M $pool.DataPath
        & truncate -s 12M $pool.MetadataPath
        $grown = Enable-ThinPool idle -StateRoot $root -PassThru -WarningVariable warned -WarningAction SilentlyContinue
        "$warned" | Should -Match 'came up with data 384 MiB and metadata 12 MiB, more than its record said \(256 MiB, 8 MiB\)'
        $grown.DataSize | Should -Be 384MB
        (Get-ThinPool idle -StateRoot $root).MetadataSize | Should -Be 12MB
        (Get-PoolStatus idle -StateRoot $root).DataSpaceTotal | Should -Be 384MB
        (Get-PoolStatus idle -StateRoot $root).MetadataSpaceTotal | Should -Be 12MB
    }

    It 'removes a pool: refuses while volumes are active, keeps files unless asked' {
        $pool = New-ThinPool -Name gone -DataSize 256MB -MetadataSize 8MB -StateRoot $root
        Invoke-Tool dmsetup @('message', 'gone', '0', 'create_thin 1') | Out-Null
        Invoke-Tool dmsetup @('create', 'gone-v', '--table', "0 2048 thin /dev/mapper/gone 1") | Out-Null
        { Remove-ThinPool gone -Force -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'VolumesActive,*'
        Test-Path /dev/mapper/gone-v | Should -BeTrue
        Remove-ThinPool gone -DeactivateVolumes -Force -StateRoot $root
        Test-Path /dev/mapper/gone-v | Should -BeFalse
        Test-Path /dev/mapper/gone | Should -BeFalse
        Get-ThinPool -StateRoot $root | Should -BeNullOrEmpty
        Test-Path $pool.DataPath | Should -BeTrue
        Test-ThinMetadata $pool.MetadataPath | Should -BeNullOrEmpty
        # A new pool of the same name never overwrites the files left behind.
        { New-ThinPool -Name gone -DataSize 256MB -MetadataSize 8MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'BackingFileExists,*'
        Remove-Item $pool.DataPath, $pool.MetadataPath
    }

    It '-WhatIf changes nothing' -Tag FullOnly {
        New-ThinPool -Name dry -DataSize 256MB -MetadataSize 8MB -StateRoot $root -WhatIf
        Test-Path /dev/mapper/dry | Should -BeFalse
        Test-Path (Join-Path $root 'pools/dry') | Should -BeFalse
    }

    It 'refuses a name that dm already uses' -Tag FullOnly {
        Invoke-Tool dmsetup @('create', 'taken', '--table', '0 2048 zero') | Out-Null
        try {
            { New-ThinPool -Name taken -DataSize 256MB -MetadataSize 8MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'NameTaken,*'
            Test-Path (Join-Path $root 'pools/taken/data') | Should -BeFalse
        }
        finally { Invoke-Tool dmsetup @('remove', 'taken') | Out-Null }
    }
}

Describe 'Thin pools in direct mode' -Tag Kernel {
    BeforeEach {
        $root = New-TestStateRoot
        $files = foreach ($name in 'data', 'meta', 'spare') {
            $path = Join-Path $root "$name.img"
            Invoke-Tool truncate @('-s', '256M', $path) | Out-Null
            $path
        }
        $loops = foreach ($file in $files) { (Invoke-Tool losetup @('-f', '--show', $file)).Trim() }
    }
    AfterEach {
        try { Assert-CleanMetadata -StateRoot $root }
        finally { foreach ($loop in $loops) { Invoke-Tool losetup @('-d', $loop) -AllowFailure | Out-Null } }
    }

    It 'builds a pool on two block devices' {
        $pool = New-ThinPool -Name direct -DataDevice $loops[0] -MetadataDevice $loops[1] -StateRoot $root
        $pool.Backing | Should -Be 'Direct'
        $pool.DataSize | Should -Be 256MB
        (Get-PoolStatus direct -StateRoot $root).DataSpaceTotal | Should -Be 256MB
        Disable-ThinPool direct -StateRoot $root
        Test-ThinMetadata $loops[1] | Should -BeNullOrEmpty
        Enable-ThinPool direct -StateRoot $root
        (Get-ThinPool direct -StateRoot $root).Active | Should -BeTrue
    }

    It 'refuses the same device for data and metadata' -Tag FullOnly {
        { New-ThinPool -Name same -DataDevice $loops[0] -MetadataDevice $loops[0] -StateRoot $root -ErrorAction Stop } |
            Should -Throw -ErrorId 'SameDataAndMetadataDevice,*'
    }

    It 'refuses a device with a file system unless -Force, and a mounted one always' -Tag FullOnly {
        Invoke-Tool mkfs.ext4 @('-q', $loops[0]) | Out-Null
        { New-ThinPool -Name sig -DataDevice $loops[0] -MetadataDevice $loops[1] -StateRoot $root -ErrorAction Stop } |
            Should -Throw -ErrorId 'DeviceHasSignature,*'
        $mount = Join-Path $root 'mnt'
        New-Item -ItemType Directory $mount | Out-Null
        Invoke-Tool mount @($loops[0], $mount) | Out-Null
        try {
            { New-ThinPool -Name sig -DataDevice $loops[0] -MetadataDevice $loops[1] -Force -StateRoot $root -ErrorAction Stop } |
                Should -Throw -ErrorId 'DeviceInUse,*'
        }
        finally { Invoke-Tool umount @($mount) | Out-Null }
        New-ThinPool -Name sig -DataDevice $loops[0] -MetadataDevice $loops[1] -Force -StateRoot $root | Out-Null
        (Get-ThinPool sig -StateRoot $root).Active | Should -BeTrue
    }

    It 'grows to a device that grew' {
        New-ThinPool -Name dgrow -DataDevice $loops[0] -MetadataDevice $loops[1] -StateRoot $root | Out-Null
        Invoke-Tool truncate @('-s', '512M', $files[0]) | Out-Null
        Invoke-Tool losetup @('-c', $loops[0]) | Out-Null
        Resize-ThinPool dgrow -StateRoot $root | Out-Null
        (Get-PoolStatus dgrow -StateRoot $root).DataSpaceTotal | Should -Be 512MB
    }
}
