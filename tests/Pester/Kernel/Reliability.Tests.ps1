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
        & dd if=/dev/urandom "of=$($volume.DevicePath)" bs=1M count=56 oflag=direct status=none
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
        $output = & dd if=/dev/zero "of=$($volume.DevicePath)" bs=1M count=128 oflag=direct 2>&1 | Out-String
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
        & dd if=/dev/zero "of=$($volume.DevicePath)" bs=1M count=128 oflag=direct status=none
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

    # The Reliability task runs 4 x 25; the everyday guest lane 4 x 5 (DMPS_LOAD_PER_PROCESS).
    It '<Processes> processes x <PerProcess> snapshots of one active origin, then as many removals: all succeed, distinct ids, nothing leaks' -TestCases @(@{ Processes = 4; PerProcess = $(if ($env:DMPS_LOAD_PER_PROCESS) { [int]$env:DMPS_LOAD_PER_PROCESS } else { 25 }) }) {
        $before = Get-LeakState
        $pwsh = Join-Path $PSHOME 'pwsh'
        function Start-Batch([string] $Verb) {
            foreach ($p in 1..$Processes) {
                $body = if ($Verb -eq 'snapshot') { "New-ThinSnapshot -Pool load -Origin origin -Name p$p-`$i -StateRoot '$root' -ErrorAction Stop | Out-Null" }
                else { "Remove-ThinVolume -Pool load -Name p$p-`$i -Force -StateRoot '$root' -ErrorAction Stop" }
                $command = "`$ErrorActionPreference = 'Stop'; Import-Module '$env:DMPS_MODULE_MANIFEST'; `$failed = 0; foreach (`$i in 1..$PerProcess) { try { $body } catch { `$failed++; [Console]::Error.WriteLine(`$_) } }; exit `$failed"
                Start-Process -FilePath $pwsh -ArgumentList @('-NoProfile', '-NonInteractive', '-Command', $command) -PassThru -RedirectStandardError (Join-Path $root "$Verb$p.txt") -RedirectStandardOutput (Join-Path $root "$Verb$p.out")
            }
        }
        $jobs = Start-Batch snapshot
        $jobs | Wait-Process -Timeout 900
        foreach ($p in 1..$Processes) { $jobs[$p - 1].ExitCode | Should -Be 0 -Because (Get-Content -Raw (Join-Path $root "snapshot$p.txt") -ErrorAction SilentlyContinue) }
        $snapshots = @(Get-ThinVolume -Pool load -Origin origin -StateRoot $root)
        $snapshots.Count | Should -Be ($Processes * $PerProcess)
        @($snapshots.ThinId | Sort-Object -Unique).Count | Should -Be ($Processes * $PerProcess)
        @($snapshots | Where-Object Active).Count | Should -Be ($Processes * $PerProcess)
        Test-ThinPool load -StateRoot $root | Should -BeNullOrEmpty

        $jobs = Start-Batch remove
        $jobs | Wait-Process -Timeout 900
        foreach ($p in 1..$Processes) { $jobs[$p - 1].ExitCode | Should -Be 0 -Because (Get-Content -Raw (Join-Path $root "remove$p.txt") -ErrorAction SilentlyContinue) }
        @(Get-ThinVolume -Pool load -StateRoot $root).Name | Should -Be @('origin')
        Test-ThinPool load -StateRoot $root | Should -BeNullOrEmpty
        $after = Get-LeakState
        $after.Devices | Should -Be $before.Devices
        $after.Loops | Should -Be $before.Loops
        $after.Semaphores | Should -Be $before.Semaphores
        # This process's own descriptors stay flat over many in-process operations.
        $fds = (Get-ChildItem "/proc/$PID/fd").Count
        foreach ($i in 1..20) { New-ThinSnapshot -Pool load -Origin origin -Name fd$i -StateRoot $root | Remove-ThinVolume -Force }
        (Get-ChildItem "/proc/$PID/fd").Count | Should -BeLessOrEqual ($fds + 2)
        (Get-LeakState).Semaphores | Should -Be $before.Semaphores
    }
}
