# Power cuts (issue 20), CI's representative part (guest lane only): the workload runs up to
# Set-ThinPool on a dm-log-writes disk, and every durable point (flush or FUA) inside two of
# its operations (a rename: registry links and record; Set-ThinPool: record and pool table) is
# replayed, booted and checked. `./build.ps1 -Task PowerCut` replays every point of every
# operation, and reordered windows too, and prints the table.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
    $repository = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
    $script:output = Join-Path ([IO.Path]::GetTempPath()) "dmps-powercut-$([guid]::NewGuid().ToString('n').Substring(0, 8)).json"
    $script:devicesBefore = (Invoke-Tool dmsetup @('ls')) -split "`n" | Sort-Object
    $assembly = Join-Path $repository 'out/artifacts/bin/DmPowerShell.Tests.PowerCut/release/DmPowerShell.Tests.PowerCut.dll'
    & (Join-Path $repository 'tests/PowerCut/Invoke-PowerCut.ps1') -Assembly $assembly -OutputFile $script:output -Only 'rename', 'set-pool' -Until 'set-pool'
    $script:report = Get-Content -Raw $script:output | ConvertFrom-Json
}

AfterAll { Remove-Item $script:output -ErrorAction SilentlyContinue }

Describe 'Power cuts' -Tag Kernel, PowerCut {
    It 'replays every durable point of a rename and a Set-ThinPool, and each image boots whole' {
        $images = @($script:report.Results)
        @($images | Where-Object Operation -eq 'set-pool').Count | Should -BeGreaterThan 0
        @($images | Where-Object Operation -eq 'rename').Count | Should -BeGreaterThan 0
        @($images | Where-Object Result -eq 'lost') | Should -BeNullOrEmpty
    }

    It 'leaves no device or loop behind' {
        (Invoke-Tool dmsetup @('ls')) -split "`n" | Sort-Object | Should -Be $script:devicesBefore
        Get-LoopBackingFiles | Where-Object { $_ -like '*dmps-powercut-*' } | Should -BeNullOrEmpty
    }
}

# Direct mode: the pool's data and metadata on their own block devices, the registry on a third.
# One device's log cannot order writes across devices, so the ordering the module relies on is
# tested directly: the pool's metadata commits before the registry's records are written (a
# journal, durable first, says what is in flight). Here the registry's device silently drops
# every write (dm-flakey drop_writes, fsync still succeeding: the worst a lying disk can do)
# from the start of a snapshot, and power is cut after it returned: the next boot must find
# the pool ahead of its registry, and Repair-ThinPool must bring back what the metadata holds
# with no data lost; a record ahead of the metadata (the order the module never uses) would
# have pointed at a thin id the pool does not have.
Describe 'Power cuts in direct mode' -Tag Kernel, PowerCut {
    BeforeAll {
        $script:scratch = New-TestStateRoot
        $images = foreach ($name in 'registry', 'data', 'meta') {
            $path = Join-Path $script:scratch "$name.img"
            Invoke-Tool truncate @('-s', $(if ($name -eq 'meta') { '16M' } else { '256M' }), $path) | Out-Null
            $path
        }
        $script:loops = foreach ($image in $images) { (Invoke-Tool losetup @('-f', '--show', $image)).Trim() }
        $script:mount = Join-Path $script:scratch 'mnt'
        New-Item -ItemType Directory $script:mount | Out-Null
        $script:flakey = 'dmps-flakey'
        $script:sectors = 256MB / 512
        Invoke-Tool dmsetup @('create', $script:flakey, '--table', "0 $($script:sectors) flakey $($script:loops[0]) 0 3600 0") | Out-Null
        Invoke-Tool dmsetup @('mknodes', $script:flakey) | Out-Null
        Invoke-Tool mkfs.ext4 @('-q', "/dev/mapper/$($script:flakey)") | Out-Null
        Invoke-Tool mount @("/dev/mapper/$($script:flakey)", $script:mount) | Out-Null
        $script:root = Join-Path $script:mount 'state'
    }
    AfterAll {
        foreach ($device in 'pd-s1', 'pd-v1', 'pd') { Invoke-Tool dmsetup @('remove', $device) -AllowFailure | Out-Null }
        Invoke-Tool umount @($script:mount) -AllowFailure | Out-Null
        Invoke-Tool dmsetup @('remove', $script:flakey) -AllowFailure | Out-Null
        foreach ($loop in $script:loops) { Invoke-Tool losetup @('-d', $loop) -AllowFailure | Out-Null }
        Remove-Item -Recurse -Force $script:scratch -ErrorAction SilentlyContinue
    }

    It 'recovers a snapshot whose registry writes were lost, from the metadata that committed first' {
        $volume = New-ThinPool -Name pd -DataDevice $script:loops[1] -MetadataDevice $script:loops[2] -StateRoot $script:root |
            New-ThinVolume -Name v1 -Size 16MB
        Write-Pattern $volume.DevicePath 7
        $hash = Get-DeviceHash $volume.DevicePath
        # From here the registry's device drops every write (and reports success).
        Invoke-Tool dmsetup @('suspend', $script:flakey) | Out-Null
        Invoke-Tool dmsetup @('load', $script:flakey, '--table', "0 $($script:sectors) flakey $($script:loops[0]) 0 0 3600 1 drop_writes") | Out-Null
        Invoke-Tool dmsetup @('resume', $script:flakey) | Out-Null
        $snapshot = New-ThinSnapshot -Pool pd -Origin v1 -Name s1 -StateRoot $script:root
        $snapshot.ThinId | Should -Not -BeNullOrEmpty
        # The power cut: the kernel's devices vanish, the page cache with them.
        foreach ($device in 'pd-s1', 'pd-v1', 'pd') { Invoke-Tool dmsetup @('remove', $device) | Out-Null }
        Invoke-Tool umount @($script:mount) | Out-Null
        Invoke-Tool dmsetup @('remove', $script:flakey) | Out-Null
        # The next boot: the registry as its device holds it, the pool as its metadata does.
        Invoke-Tool mount @($script:loops[0], $script:mount) | Out-Null
        Enable-ThinPool -All -StateRoot $script:root -WarningAction SilentlyContinue | Out-Null
        (Get-ThinVolume -Pool pd -StateRoot $script:root).Name | Should -Be @('v1')
        $problems = @(Test-ThinPool pd -StateRoot $script:root)
        $problems.Kind | Should -Contain 'UnrecordedThinId'
        Repair-ThinPool pd -StateRoot $script:root -Confirm:$false -WarningAction SilentlyContinue | Out-Null
        Test-ThinPool pd -StateRoot $script:root | Should -BeNullOrEmpty
        $volumes = @(Get-ThinVolume -Pool pd -StateRoot $script:root)
        $volumes.Count | Should -Be 2
        ($volumes | Where-Object ThinId -eq $snapshot.ThinId) | Should -Not -BeNullOrEmpty
        # Both hold v1's data: the origin, and the snapshot brought back from the metadata.
        foreach ($volume in $volumes) {
            if (-not $volume.Active) { $volume = $volume | Enable-ThinVolume -PassThru }
            Get-DeviceHash $volume.DevicePath | Should -Be $hash -Because $volume.Name
        }
        Disable-ThinPool pd -DeactivateVolumes -StateRoot $script:root
        Test-ThinMetadata $script:loops[2] | Should -BeNullOrEmpty
        Remove-ThinPool pd -Force -StateRoot $script:root
    }
}
