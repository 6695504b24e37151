# Thin volumes and snapshots against the real kernel (guest lane only); thin_check after each test.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
}

Describe 'Thin volumes and snapshots' -Tag Kernel {
    BeforeEach {
        $root = New-TestStateRoot
        $pool = New-ThinPool -Name my-pool -DataSize 512MB -MetadataSize 16MB -StateRoot $root
    }
    AfterEach { Assert-CleanMetadata -StateRoot $root }

    It 'builds the guide''s chain in one pipeline: ctr1 is a snapshot of layer1, a snapshot of base' {
        $ctr1 = $pool | New-ThinVolume -Name base -Size 64MB -FileSystem ext4 | New-ThinSnapshot -Name layer1 | New-ThinSnapshot -Name ctr1
        $ctr1.Name | Should -Be 'ctr1'
        $ctr1.Origin | Should -Be 'layer1'
        $ctr1.Chain | Should -Be @('layer1', 'base')
        $ctr1.DevicePath | Should -Be '/dev/mapper/my--pool-ctr1'
        Test-Path $ctr1.DevicePath | Should -BeTrue
        $ctr1.Uuid | Should -Be "DMPS-$($pool.Id)-$($ctr1.ThinId)"
        (Invoke-Tool blkid @('-p', '-s', 'TYPE', '-o', 'value', $ctr1.DevicePath)).Trim() | Should -Be 'ext4'
        (Get-PoolStatus my-pool -StateRoot $root).TransactionId | Should -Be 3
        $volumes = Get-ThinPool -StateRoot $root | Get-ThinVolume
        $volumes.Name | Should -Be @('base', 'layer1', 'ctr1')
        @($volumes.ThinId | Sort-Object -Unique).Count | Should -Be 3
        (Get-ThinVolume -Origin base -StateRoot $root).Name | Should -Be 'layer1'
        (Get-ThinVolume -Name 'l*' -StateRoot $root).Name | Should -Be 'layer1'
        (Get-PoolStatus my-pool -StateRoot $root).ThinVolumeCount | Should -Be 3
        (Get-PoolStatus my-pool -StateRoot $root).BaseDeviceSize | Should -Be 64MB
        (Get-PoolStatus my-pool -StateRoot $root).BackingFilesystem | Should -Be 'ext4'
    }

    It 'reads a pool''s status in the same number of kernel calls at 2 volumes and at 12' {
        $base = New-ThinVolume -Pool my-pool -Name base -Size 16MB -StateRoot $root
        $null = $base | New-ThinSnapshot -Name s0
        $calls = {
            $before = [DmPowerShell.Kernel.DeviceMapperClient]::KernelCalls.Item2
            $status = Get-PoolStatus my-pool -StateRoot $root
            [DmPowerShell.Kernel.DeviceMapperClient]::KernelCalls.Item2 - $before
            $status.ThinVolumeCount
        }
        $null = & $calls   # the first call of a process also asks the driver's version
        $few, $count = & $calls
        $count | Should -Be 2
        $null = New-ThinSnapshot -Pool my-pool -Origin base -Name (1..10 | ForEach-Object { "s$_" }) -StateRoot $root
        $many, $count = & $calls
        $count | Should -Be 12
        $many | Should -Be $few
        $few | Should -BeLessOrEqual 4
        # A thin device no record describes is found among the pool's holders, and counted.
        $poolDevice = Split-Path -Leaf $pool.DevicePath   # my--pool: dm's escape of the dash
        Invoke-Tool dmsetup @('message', $poolDevice, '0', 'create_thin 900') | Out-Null
        Invoke-Tool dmsetup @('create', 'stray', '--table', "0 8192 thin $($pool.DevicePath) 900") | Out-Null
        try {
            $status = Get-PoolStatus my-pool -StateRoot $root
            $status.ThinVolumeCount | Should -Be 13
            $status.ProvisionedSize | Should -Be (12 * 16MB + 4MB)
        }
        finally {
            Invoke-Tool dmsetup @('remove', 'stray') | Out-Null
            Invoke-Tool dmsetup @('message', $poolDevice, '0', 'delete 900') | Out-Null
        }
    }

    It 'lists many volumes from one device list and one metadata read, and knows what inactive ones map' {
        $base = New-ThinVolume -Pool my-pool -Name base -Size 16MB -StateRoot $root
        Write-Pattern $base.DevicePath 3
        $null = New-ThinSnapshot -Pool my-pool -Origin base -Name s1, s2 -StateRoot $root
        Write-Pattern '/dev/mapper/my--pool-s1' 4 -Bytes 1MB -Offset 8MB
        $cold = New-ThinVolume -Pool my-pool -Name cold -Size 16MB -StateRoot $root
        Write-Pattern $cold.DevicePath 5 -Bytes 2MB
        Disable-ThinVolume -Pool my-pool -Name cold -StateRoot $root
        $each = Get-ThinVolume -Pool my-pool -StateRoot $root   # few volumes: a status ioctl each
        [DmPowerShell.Volumes.VolumeService]::BulkLiveStateThreshold = 2
        try {
            $before = [DmPowerShell.Kernel.DeviceMapperClient]::KernelCalls.Item2
            $bulk = Get-ThinVolume -Pool my-pool -StateRoot $root
            $calls = [DmPowerShell.Kernel.DeviceMapperClient]::KernelCalls.Item2 - $before
        }
        finally { [DmPowerShell.Volumes.VolumeService]::BulkLiveStateThreshold = 256 }
        $bulk.Name | Should -Be $each.Name
        foreach ($property in 'Active', 'Device', 'ReadOnly', 'Size', 'Chain') {
            ($bulk | ForEach-Object $property) -join ',' | Should -Be (($each | ForEach-Object $property) -join ',')
        }
        ($bulk | Where-Object Active).MappedBytes | Should -Be ($each | Where-Object Active).MappedBytes
        ($bulk | Where-Object Name -eq s1).MappedBytes | Should -Be 5MB
        ($each | Where-Object Name -eq cold).MappedBytes | Should -BeNullOrEmpty
        ($bulk | Where-Object Name -eq cold).MappedBytes | Should -Be 2MB
        # The list, the pool's table and status, reserve and release: not one call per volume.
        $calls | Should -BeLessOrEqual 5
        (Get-DmStatus my--pool) -split ' ' | Select-Object -Index 6 | Should -Be '-'   # the metadata snapshot is released
    }

    It 'shares data copy-on-write: snapshots see the origin, writes never cross' {
        $base = New-ThinVolume -Pool my-pool -Name base -Size 32MB -StateRoot $root
        Write-Pattern $base.DevicePath 1
        $baseHash = Get-DeviceHash $base.DevicePath
        $s1 = $base | New-ThinSnapshot -Name s1
        $s2 = $base | New-ThinSnapshot -Name s2
        Get-DeviceHash $s1.DevicePath | Should -Be $baseHash
        Write-Pattern $s1.DevicePath 2
        $s1Hash = Get-DeviceHash $s1.DevicePath
        Get-DeviceHash $base.DevicePath | Should -Be $baseHash
        Get-DeviceHash $s2.DevicePath | Should -Be $baseHash
        Write-Pattern $base.DevicePath 3
        Get-DeviceHash $s1.DevicePath | Should -Be $s1Hash
        Get-DeviceHash $s2.DevicePath | Should -Be $baseHash

        # A chain of four snapshots, each seeing its parent's data at the time.
        $hashes = @{}
        $parent = $base
        foreach ($i in 1..4) {
            $child = $parent | New-ThinSnapshot -Name "c$i"
            Get-DeviceHash $child.DevicePath | Should -Be (Get-DeviceHash $parent.DevicePath)
            Write-Pattern $child.DevicePath (10 + $i) -Bytes 1MB -Offset ($i * 1MB)
            $hashes["c$i"] = Get-DeviceHash $child.DevicePath
            $parent = $child
        }
        $parent.Chain | Should -Be @('c3', 'c2', 'c1', 'base')
        foreach ($i in 1..4) { Get-DeviceHash "/dev/mapper/my--pool-c$i" | Should -Be $hashes["c$i"] }
    }

    It 'snapshots an inactive origin without activating it, inactive and read-only on request' -Tag FullOnly {
        $base = New-ThinVolume -Pool my-pool -Name base -Size 32MB -StateRoot $root
        Write-Pattern $base.DevicePath 5
        $hash = Get-DeviceHash $base.DevicePath
        Disable-ThinVolume -Pool my-pool -Name base -StateRoot $root
        $cold = New-ThinSnapshot -Pool my-pool -Origin base -Name cold -Inactive -StateRoot $root
        $cold.Active | Should -BeFalse
        $cold.UsedPercent | Should -BeNullOrEmpty
        (Get-ThinVolume base -Pool my-pool -StateRoot $root).Active | Should -BeFalse
        $ro = New-ThinSnapshot -Pool my-pool -Origin base -Name ro -ReadOnly -StateRoot $root
        $ro.ReadOnly | Should -BeTrue
        Get-DeviceHash $ro.DevicePath | Should -Be $hash
        { Write-Pattern $ro.DevicePath 6 } | Should -Throw
        Enable-ThinVolume -Pool my-pool -Name cold -StateRoot $root
        Get-DeviceHash '/dev/mapper/my--pool-cold' | Should -Be $hash
        (Get-ThinVolume cold -Pool my-pool -StateRoot $root).UsedPercent | Should -BeGreaterThan 0
    }

    It 'removes an origin and leaves its snapshots intact; the name is free again' {
        $base = New-ThinVolume -Pool my-pool -Name base -Size 32MB -StateRoot $root
        Write-Pattern $base.DevicePath 7
        $hash = Get-DeviceHash $base.DevicePath
        $snap = $base | New-ThinSnapshot -Name keep
        Remove-ThinVolume -Pool my-pool -Name base -Force -StateRoot $root
        Test-Path $base.DevicePath | Should -BeFalse
        Get-DeviceHash $snap.DevicePath | Should -Be $hash
        $after = Get-ThinVolume keep -Pool my-pool -StateRoot $root
        $after.Origin | Should -Be '(removed)'
        $after.Chain | Should -Be @('(removed)')
        (New-ThinVolume -Pool my-pool -Name base -Size 8MB -StateRoot $root).ThinId | Should -Not -Be $base.ThinId
        (Get-ThinVolume keep -Pool my-pool -StateRoot $root).Origin | Should -Be '(removed)'
    }

    It 'returns space after removal and after fstrim, down to the sparse file' {
        $vol = New-ThinVolume -Pool my-pool -Name fill -Size 128MB -FileSystem ext4 -StateRoot $root
        $mount = Join-Path $root 'mnt'
        New-Item -ItemType Directory $mount | Out-Null
        Invoke-Tool mount @($vol.DevicePath, $mount) | Out-Null
        try {
            $bytes = [byte[]]::new(48MB); [Random]::new(9).NextBytes($bytes)
            [IO.File]::WriteAllBytes("$mount/blob", $bytes)
            Invoke-Tool sync | Out-Null
            $full = Get-PoolStatus my-pool -StateRoot $root
            $fullOnDisk = [long](Invoke-Tool du @('-B1', $pool.DataPath)).Split("`t")[0]
            Remove-Item "$mount/blob"
            Invoke-Tool sync | Out-Null
            Invoke-Tool fstrim @($mount) | Out-Null
            $trimmed = Get-PoolStatus my-pool -StateRoot $root
            $trimmed.DataSpaceUsed | Should -BeLessThan ($full.DataSpaceUsed - 32MB)
            $trimmedOnDisk = [long](Invoke-Tool du @('-B1', $pool.DataPath)).Split("`t")[0]
            $trimmedOnDisk | Should -BeLessThan ($fullOnDisk - 32MB)
        }
        finally { Invoke-Tool umount @($mount) -AllowFailure | Out-Null }
        $before = (Get-PoolStatus my-pool -StateRoot $root).DataSpaceUsed
        Remove-ThinVolume -Pool my-pool -Name fill -Force -StateRoot $root
        (Get-PoolStatus my-pool -StateRoot $root).DataSpaceUsed | Should -BeLessThan $before
    }

    It 'names who holds a busy volume' -Tag FullOnly {
        $vol = New-ThinVolume -Pool my-pool -Name busy -Size 32MB -FileSystem ext4 -StateRoot $root
        $mount = Join-Path $root 'held'
        New-Item -ItemType Directory $mount | Out-Null
        Invoke-Tool mount @($vol.DevicePath, $mount) | Out-Null
        try {
            $caught = $null
            try { Remove-ThinVolume -Pool my-pool -Name busy -Force -StateRoot $root -ErrorAction Stop } catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -BeLike 'DeviceInUse,*'
            $caught.CategoryInfo.Category | Should -Be 'ResourceBusy'
            $caught.Exception.Message | Should -Match ([regex]::Escape($mount))
            $caught.Exception.Message | Should -Match 'open count'
            (Get-ThinVolume busy -Pool my-pool -StateRoot $root).Active | Should -BeTrue
        }
        finally { Invoke-Tool umount @($mount) | Out-Null }
    }

    It 'defers the removal of a busy volume and finishes it once the device closes' {
        $vol = New-ThinVolume -Pool my-pool -Name later -Size 32MB -FileSystem ext4 -StateRoot $root
        $mount = Join-Path $root 'later'
        New-Item -ItemType Directory $mount | Out-Null
        Invoke-Tool mount @($vol.DevicePath, $mount) | Out-Null
        try {
            Remove-ThinVolume -Pool my-pool -Name later -Deferred -Force -StateRoot $root -WarningVariable warned -WarningAction SilentlyContinue
            $warned | Should -Match 'deferred'
            (Get-ThinVolume later -Pool my-pool -StateRoot $root).PendingDeletion | Should -BeTrue
            (Get-PoolStatus my-pool -StateRoot $root).DeferredDeletedDeviceCount | Should -Be 1
            # Still mounted, so the device is still there, marked for removal at its last close.
            Invoke-Tool dmsetup @('info', 'my--pool-later') | Should -Match 'DEFERRED REMOVE'
        }
        finally { Invoke-Tool umount @($mount) | Out-Null }
        Start-Sleep -Milliseconds 200
        Invoke-Tool dmsetup @('info', 'my--pool-later') -AllowFailure | Should -Not -Match 'DEFERRED'   # removed at the last close
        New-ThinVolume -Pool my-pool -Name next -Size 8MB -StateRoot $root | Out-Null   # any command finishes the deletion
        (Get-PoolStatus my-pool -StateRoot $root).DeferredDeletedDeviceCount | Should -Be 0
        (Get-ThinVolume -StateRoot $root).Name | Should -Be @('next')
    }

    It 'keeps libdevmapper''s own log lines off the console' -Tag FullOnly {
        $command = "Import-Module '$env:DMPS_MODULE_MANIFEST'; try { [DmPowerShell.Kernel.DeviceMapperClient]::Shared.Remove('dmps-no-such-device') } catch { 'caught ' + `$_.Exception.InnerException.GetType().Name }"
        $output = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $command 2>&1 | Out-String
        $output | Should -Match 'caught DeviceNotFoundException'
        $output | Should -Not -Match 'device-mapper:'
        $output | Should -Not -Match 'ioctl'
    }

    It 'renames a volume and its device, and grows it with its file system' {
        New-ThinVolume -Pool my-pool -Name old-name -Size 32MB -FileSystem ext4 -StateRoot $root | Out-Null
        $renamed = Rename-ThinVolume -Pool my-pool -Name old-name -NewName new-name -PassThru -StateRoot $root
        $renamed.DevicePath | Should -Be '/dev/mapper/my--pool-new--name'
        Test-Path /dev/mapper/my--pool-old--name | Should -BeFalse
        Test-Path $renamed.DevicePath | Should -BeTrue
        $grown = $renamed | Resize-ThinVolume -Size 64MB -ResizeFileSystem
        $grown.Size | Should -Be 64MB
        (Invoke-Tool blockdev @('--getsize64', $grown.DevicePath)).Trim() | Should -Be ([string]64MB)
        $superblock = Invoke-Tool dumpe2fs @('-h', $grown.DevicePath)
        $blocks = [long]([regex]::Match($superblock, 'Block count:\s+(\d+)').Groups[1].Value)
        $blockSize = [long]([regex]::Match($superblock, 'Block size:\s+(\d+)').Groups[1].Value)
        $blocks * $blockSize | Should -Be 64MB
        { $grown | Resize-ThinVolume -Size 32MB -ErrorAction Stop } | Should -Throw -ErrorId 'ShrinkNotSupported,*'
    }

    It 'refuses bad names, taken names and sizes' -Tag FullOnly {
        New-ThinVolume -Pool my-pool -Name taken -Size 8MB -StateRoot $root | Out-Null
        { New-ThinVolume -Pool my-pool -Name taken -Size 8MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'NameTaken,*'
        { New-ThinVolume -Pool my-pool -Name ('v' * 120) -Size 8MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidName,*'
        { New-ThinVolume -Pool my-pool -Name 'a/b' -Size 8MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidName,*'
        { New-ThinVolume -Pool my-pool -Name odd -Size 1000 -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSize,*'
        { New-ThinVolume -Pool nopool -Name v -Size 8MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'PoolNotFound,*'
        { New-ThinSnapshot -Pool my-pool -Origin missing -Name s -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'VolumeNotFound,*'
        (Get-ThinVolume -StateRoot $root).Name | Should -Be @('taken')
    }

    It 'brings back the volumes that were active when the pool comes back after a reboot' {
        New-ThinVolume -Pool my-pool -Name up -Size 8MB -StateRoot $root | Out-Null
        New-ThinVolume -Pool my-pool -Name down -Size 8MB -Inactive -StateRoot $root | Out-Null
        foreach ($device in 'my--pool-up', 'my--pool') { Invoke-Tool dmsetup @('remove', $device) | Out-Null }
        foreach ($loop in $pool.DataDevice, $pool.MetadataDevice) { Invoke-Tool losetup @('-d', $loop) -AllowFailure | Out-Null }
        Start-Sleep -Milliseconds 200
        Enable-ThinPool -All -StateRoot $root
        (Get-ThinVolume up -Pool my-pool -StateRoot $root).Active | Should -BeTrue
        (Get-ThinVolume down -Pool my-pool -StateRoot $root).Active | Should -BeFalse
    }
}
