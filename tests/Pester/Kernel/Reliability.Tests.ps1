# Full pools and load against the real kernel (guest lane only); thin_check after each test.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane

    function Get-LeakState {
        [pscustomobject]@{
            Devices    = ((Invoke-Tool dmsetup @('ls')).Trim() -split "`n" | Sort-Object) -join ','
            Loops      = (Get-LoopBackingFiles | Sort-Object) -join ','
            Semaphores = @((Invoke-Tool ipcs @('-s')) -split "`n" | Where-Object { $_ -match '^0x' }).Count
        }
    }
}

Describe 'Full pools' -Tag Kernel, FullPool {
    BeforeEach { $root = New-TestStateRoot }
    AfterEach { Assert-CleanMetadata -StateRoot $root }

    It 'refuses new volumes and snapshots once data space is under the minimum, before the pool fills' {
        $pool = New-ThinPool -Name tight -DataSize 64MB -MetadataSize 8MB -MinimumFreeSpacePercent 20 -StateRoot $root
        $volume = $pool | New-ThinVolume -Name v -Size 128MB
        & (Resolve-Tool dd) if=/dev/urandom "of=$($volume.DevicePath)" bs=1M count=56 oflag=direct status=none
        $LASTEXITCODE | Should -Be 0
        foreach ($command in { New-ThinVolume -Pool tight -Name more -Size 8MB -StateRoot $root }, { $volume | New-ThinSnapshot -Name snap }) {
            $caught = $null
            try { $ErrorActionPreference = 'Stop'; & $command } catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -BeLike 'PoolLowOnSpace,*'
            $caught.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $caught.Exception.Message | Should -Match 'data space is [\d.]+% free, under its minimum of 20%'
        }
        (Get-PoolStatus tight -StateRoot $root).Mode | Should -Be 'ReadWrite'
        (Test-ThinPool tight -StateRoot $root).Kind | Should -Contain 'LowDataSpace'
    }

    It 'refuses new volumes once metadata space is under the minimum' {
        $null = New-ThinPool -Name meta -DataSize 64MB -MetadataSize 2MB -MinimumFreeSpacePercent 99 -StateRoot $root
        $status = Get-PoolStatus meta -StateRoot $root
        $status.MetadataSpaceAvailable / $status.MetadataSpaceTotal | Should -BeLessThan 0.99
        $caught = $null
        try { New-ThinVolume -Pool meta -Name v -Size 8MB -StateRoot $root -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'PoolLowOnSpace,*'
        $caught.Exception.Message | Should -Match 'metadata space is [\d.]+% free'
    }

    It 'fails writes to a full error_if_no_space pool within 30 s, says out_of_data_space, and recovers after a resize' {
        $pool = New-ThinPool -Name full -DataSize 64MB -MetadataSize 8MB -NoSpacePolicy Error -MinimumFreeSpacePercent 0 -StateRoot $root
        $volume = $pool | New-ThinVolume -Name v -Size 256MB
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $output = & (Resolve-Tool dd) if=/dev/zero "of=$($volume.DevicePath)" bs=1M count=128 oflag=direct 2>&1 | Out-String
        $exit = $LASTEXITCODE
        $watch.Stop()
        $exit | Should -Not -Be 0 -Because 'the pool has 64 MiB for a 128 MiB write'
        $output | Should -Match 'error|No space'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 30
        $status = Get-PoolStatus full -StateRoot $root
        $status.Mode | Should -Be 'OutOfDataSpace'
        (Test-ThinPool full -StateRoot $root).Kind | Should -Contain 'OutOfDataSpace'

        Resize-ThinPool full -DataSize 256MB -StateRoot $root | Out-Null
        (Get-PoolStatus full -StateRoot $root).Mode | Should -Be 'ReadWrite'
        & (Resolve-Tool dd) if=/dev/zero "of=$($volume.DevicePath)" bs=1M count=128 oflag=direct status=none
        $LASTEXITCODE | Should -Be 0
        (New-ThinSnapshot -Pool full -Origin v -Name after -StateRoot $root).Active | Should -BeTrue
    }
}

Describe 'Load' -Tag Kernel, Load {
    BeforeAll {
        $root = New-TestStateRoot
        $null = New-ThinPool -Name load -DataSize 1GB -MetadataSize 64MB -StateRoot $root | New-ThinVolume -Name origin -Size 64MB
    }
    AfterAll { Assert-CleanMetadata -StateRoot $root }

    # The Reliability task runs 4 x 25; the everyday guest lane 2 x 3 (DMPS_LOAD_PROCESSES, DMPS_LOAD_PER_PROCESS).
    It '<Processes> processes x <PerProcess> snapshots of one active origin, each then removing its own: all succeed, distinct ids, nothing leaks' -TestCases @(@{ Processes = $(if ($env:DMPS_LOAD_PROCESSES) { [int]$env:DMPS_LOAD_PROCESSES } else { 4 }); PerProcess = $(if ($env:DMPS_LOAD_PER_PROCESS) { [int]$env:DMPS_LOAD_PER_PROCESS } else { 25 }) }) {
        $before = Get-LeakState
        $pwsh = Join-Path $PSHOME 'pwsh'
        # One pwsh per process (their start-up is most of the cost in the guest): each makes its
        # snapshots, printing the thin ids it got, then removes them, while the others run.
        $jobs = foreach ($p in 1..$Processes) {
            $command = @"
`$ErrorActionPreference = 'Stop'; Import-Module '$env:DMPS_MODULE_MANIFEST'; `$failed = 0
foreach (`$i in 1..$PerProcess) { try { 'id ' + (New-ThinSnapshot -Pool load -Origin origin -Name p$p-`$i -StateRoot '$root').ThinId } catch { `$failed++; [Console]::Error.WriteLine(`$_) } }
foreach (`$i in 1..$PerProcess) { try { Remove-ThinVolume -Pool load -Name p$p-`$i -Force -StateRoot '$root' } catch { `$failed++; [Console]::Error.WriteLine(`$_) } }
exit `$failed
"@
            Start-Process -FilePath $pwsh -ArgumentList @('-NoProfile', '-NonInteractive', '-Command', $command) -PassThru `
                -RedirectStandardError (Join-Path $root "err$p.txt") -RedirectStandardOutput (Join-Path $root "out$p.txt")
        }
        $jobs | Wait-Process -Timeout 900
        foreach ($p in 1..$Processes) { $jobs[$p - 1].ExitCode | Should -Be 0 -Because (Get-Content -Raw (Join-Path $root "err$p.txt") -ErrorAction SilentlyContinue) }
        $ids = foreach ($p in 1..$Processes) { Get-Content (Join-Path $root "out$p.txt") | Where-Object { $_ -match '^id (\d+)$' } | ForEach-Object { [int]$Matches[1] } }
        @($ids).Count | Should -Be ($Processes * $PerProcess)
        @($ids | Sort-Object -Unique).Count | Should -Be ($Processes * $PerProcess)
        @(Get-ThinVolume -Pool load -StateRoot $root).Name | Should -Be @('origin')
        Test-ThinPool load -StateRoot $root | Should -BeNullOrEmpty
        $after = Get-LeakState
        $after.Devices | Should -Be $before.Devices
        $after.Loops | Should -Be $before.Loops
        $after.Semaphores | Should -Be $before.Semaphores
        # This process's own descriptors and managed memory stay flat over many in-process
        # create/remove cycles (1,000 in the Reliability task, 8 in the everyday lane).
        $cycles = if ($env:DMPS_MATRIX -eq 'full') { 1000 } else { 8 }
        $fds = (Get-ChildItem "/proc/$PID/fd").Count
        $heap = [GC]::GetTotalMemory($true)
        foreach ($i in 1..$cycles) { $null = New-ThinVolume -Pool load -Name fd$i -Size 16MB -StateRoot $root | Remove-ThinVolume -Force }
        (Get-ChildItem "/proc/$PID/fd").Count | Should -BeLessOrEqual ($fds + 2)
        $grown = [GC]::GetTotalMemory($true) - $heap
        Write-Host ("Managed heap after {0} create/remove cycles: {1:+#,0;-#,0;0} bytes (working set {2:N0} MiB)" -f $cycles, $grown, ([Diagnostics.Process]::GetCurrentProcess().WorkingSet64 / 1MB))
        $grown | Should -BeLessThan 4MB
        (Get-LeakState).Semaphores | Should -Be $before.Semaphores
    }
}

Describe 'Security' -Tag Kernel, Security {
    BeforeAll {
        $root = New-TestStateRoot
        $pool = New-ThinPool -Name sec -DataSize 256MB -MetadataSize 8MB -StateRoot $root
        $volume = $pool | New-ThinVolume -Name v -Size 32MB
        $null = $volume | New-ThinSnapshot -Name s
    }
    AfterAll { Assert-CleanMetadata -StateRoot $root }

    It 'keeps every registry and backing file 0600 and every state folder 0700' {
        $modes = Get-ChildItem -Recurse -Force $root | Where-Object { -not $_.LinkTarget -and $_.Name -ne 'lock' } | ForEach-Object {
            [pscustomobject]@{ Path = $_.FullName; Mode = (Invoke-Tool stat @('-c', '%a', $_.FullName)).Trim(); Folder = $_.PSIsContainer }
        }
        $modes.Count | Should -BeGreaterThan 6
        foreach ($entry in $modes) {
            $entry.Mode | Should -Be $(if ($entry.Folder) { '700' } else { '600' }) -Because $entry.Path
        }
    }

    It 'makes no device node readable or writable by others' {
        foreach ($device in '/dev/mapper/sec', '/dev/mapper/sec-v', '/dev/mapper/sec-s', (Get-ThinPool sec -StateRoot $root).DataDevice) {
            $mode = [Convert]::ToInt32((Invoke-Tool stat @('-L', '-c', '%a', $device)).Trim(), 8)
            ($mode -band 0x7) | Should -Be 0 -Because "$device has mode $([Convert]::ToString($mode, 8))"
        }
    }

    It 'refuses names that would reach a path or a table' {
        foreach ($name in '..', '../x', 'a/b', "a`nb", 'a b', "x`0y") {
            { New-ThinVolume -Pool sec -Name $name -Size 8MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidName,*'
        }
        Get-ChildItem -Recurse $root | Where-Object Name -in 'x', 'b', 'y' | Should -BeNullOrEmpty
    }
}
