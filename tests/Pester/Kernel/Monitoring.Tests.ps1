# Watch-ThinPool against the real kernel (guest lane only): the pool grows in steps while it is
# written past its size, each step an event; without autoextend an error_if_no_space pool fails
# the write at once and the watcher reports out_of_data_space; metadata grows when snapshots fill
# it; the watcher stops at once, is seen by Get-PoolStatus, and is refused a second time.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane

    function Start-Watcher([string] $Pool, [string] $StateRoot, [int] $CheckInterval = 2) {
        # The watcher in a thread of this process, as a user runs it in the background.
        $job = Start-ThreadJob -ArgumentList $env:DMPS_MODULE_MANIFEST, $Pool, $StateRoot, $CheckInterval -ScriptBlock {
            param($Manifest, $Pool, $StateRoot, $CheckInterval)
            Import-Module $Manifest
            Watch-ThinPool $Pool -StateRoot $StateRoot -CheckInterval $CheckInterval -Timeout 900
        }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not (Get-PoolStatus $Pool -StateRoot $StateRoot).Watched) {
            if ($job.State -in 'Failed', 'Completed', 'Stopped') { throw "The watcher ended: $($job | Receive-Job 2>&1 | Out-String)" }
            if ($clock.Elapsed.TotalSeconds -gt 120) { throw 'The watcher did not start within 120 s.' }
            Start-Sleep -Milliseconds 200
        }
        $job
    }

    function Stop-Watcher($Job) {
        # Stop-Job reaches the cmdlet's StopProcessing, as Ctrl+C does.
        $Job | Stop-Job
        $events = @($Job | Receive-Job -ErrorVariable failures -ErrorAction SilentlyContinue)
        $Job | Remove-Job -Force
        $failures | Should -BeNullOrEmpty
        $events
    }

    function Write-Zeros([string] $Device, [int] $MiB) {
        # dd as a user would; direct I/O so that the write reaches the pool now, not at close.
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $output = & (Resolve-Tool dd) if=/dev/zero "of=$Device" bs=1M "count=$MiB" oflag=direct 2>&1 | Out-String
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $output; Seconds = $clock.Elapsed.TotalSeconds }
    }
}

Describe 'Watch-ThinPool' -Tag Kernel {
    BeforeAll {
        $root = New-TestStateRoot
        # journald as systemd runs it (here without systemd: it opens its sockets itself and keeps
        # the journal in /run/log/journal); a watcher that finds JOURNAL_STREAM writes each event to it.
        Mount-TestCgroup
        $journald = Start-Process /lib/systemd/systemd-journald -PassThru -RedirectStandardError (Join-Path $root 'journald.log')
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not (Test-Path /run/systemd/journal/socket)) {
            if ($journald.HasExited -or $clock.Elapsed.TotalSeconds -gt 60) { throw "journald did not start: $(Get-Content -Raw (Join-Path $root 'journald.log'))" }
            Start-Sleep -Milliseconds 200
        }
        Start-Sleep -Seconds 1
        if ($journald.HasExited) { throw "journald ended: $(Get-Content -Raw (Join-Path $root 'journald.log'))" }
        function Wait-Watched([string] $Pool, $Process, [string] $Output) {
            # A pwsh start: ~30 s in a quiet guest, over 120 s beside two other guests.
            $clock = [Diagnostics.Stopwatch]::StartNew()
            while (-not (Get-PoolStatus $Pool -StateRoot $root).Watched) {
                if ($Process.HasExited -or $clock.Elapsed.TotalSeconds -gt 300) { throw "The watcher of $Pool did not start: $(if ($Output) { Get-Content -Raw $Output })" }
                Start-Sleep -Milliseconds 250
            }
        }
        function Get-JournalEntry([string] $Pool, [string] $Kind) {
            # journalctl selects by the watcher's own fields; -o json gives every field of each entry.
            & (Resolve-Tool journalctl) --directory=/run/log/journal --no-pager -o json "POOL=$Pool" "POOL_EVENT=$Kind" 2>&1 |
                Where-Object { $_ -like '{*' } | ForEach-Object { $_ | ConvertFrom-Json }
        }
    }
    AfterAll {
        Stop-Process -Id $journald.Id -ErrorAction SilentlyContinue
        $journald.WaitForExit(10000) | Out-Null
        Remove-Item -Recurse -Force /run/systemd/journal -ErrorAction SilentlyContinue   # no dead sockets for later tests
        Assert-CleanMetadata -StateRoot $root
    }

    It 'grows a 256 MiB pool in steps while 768 MiB are written, with no I/O error, each step an event' {
        $null = New-ThinPool -Name grow -DataSize 256MB -MetadataSize 16MB -SkipBlockZeroing -StateRoot $root |
            New-ThinVolume -Name data -Size 1GB
        Set-ThinPool grow -AutoextendThreshold 70 -AutoextendPercent 25 -StateRoot $root
        # The kernel hears of the crossing itself: the low water mark sits at the threshold (30% of 4096 blocks free).
        (Get-DmTable grow) | Should -Match ' thin-pool \d+:\d+ \d+:\d+ 128 1228 '
        (Get-PoolStatus grow -StateRoot $root).Watched | Should -BeFalse
        $env:JOURNAL_STREAM = '0:0'   # as under systemd with StandardOutput=journal
        try { $watcher = Start-Watcher grow $root }
        finally { Remove-Item Env:JOURNAL_STREAM }
        (Get-PoolStatus grow -StateRoot $root).WatchedBy | Should -Match "^process \d+"

        $write = Write-Zeros /dev/mapper/grow-data 768
        Start-Sleep -Seconds 3   # the last step after the write's final blocks
        $events = Stop-Watcher $watcher
        Write-Host ($events | Format-Table Time, Kind, DataUsedPercent, OldSize, NewSize, Message -AutoSize | Out-String -Width 200)
        Write-Host "dd: $($write.Seconds) s: $($write.Output)"

        $write.ExitCode | Should -Be 0 -Because $write.Output
        $write.Output | Should -Not -Match 'error'
        $events[0].Kind | Should -Be 'Started'
        $events.Kind | Should -Contain 'DataThreshold'
        $events.Kind | Should -Not -Contain 'ExtensionFailed'
        $steps = @($events | Where-Object Kind -eq 'Extended')
        $steps.Count | Should -BeGreaterOrEqual 3
        $steps | ForEach-Object { $_.Space | Should -Be 'Data'; $_.NewSize | Should -BeGreaterThan $_.OldSize }
        $steps[0].OldSize | Should -Be 256MB
        $steps[0].NewSize | Should -Be 320MB                       # one step of 25%, not one big jump
        for ($i = 1; $i -lt $steps.Count; $i++) { $steps[$i].OldSize | Should -Be $steps[$i - 1].NewSize }
        $status = Get-PoolStatus grow -StateRoot $root
        $status.DataSpaceTotal | Should -Be $steps[-1].NewSize
        $status.DataSpaceUsed | Should -BeGreaterOrEqual 768MB
        $status.Mode | Should -Be 'ReadWrite'
        $status.Watched | Should -BeFalse                          # the lock went with the watcher
        (Get-ThinPool grow -StateRoot $root).DataSize | Should -Be $steps[-1].NewSize
        (Get-Item (Get-ThinPool grow -StateRoot $root).DataPath).Length | Should -Be $steps[-1].NewSize
        # Each step is counted for Prometheus, beside the pool's record (it outlives the watcher).
        $metrics = Join-Path $root 'grow.prom'
        Export-PoolMetric grow -Path $metrics -StateRoot $root
        Get-Content $metrics | Should -Contain "dmpowershell_pool_autoextend_events_total{pool=`"grow`",device=`"grow`",manager=`"DmPowerShell`",space=`"data`"} $($steps.Count)"
        # Each step is also a journal entry: journalctl POOL=grow POOL_EVENT=Extended finds them, with their sizes.
        $entries = @(Get-JournalEntry grow Extended)
        $entries.Count | Should -Be $steps.Count
        $entries[0].SYSLOG_IDENTIFIER | Should -Be 'dmpowershell-watch'
        $entries[0].POOL_SPACE | Should -Be 'Data'
        $entries[0].OLD_SIZE | Should -Be '268435456'
        $entries[0].NEW_SIZE | Should -Be '335544320'
        $entries[0].MESSAGE | Should -Match '^grow Extended: data grown from 256 MiB to 320 MiB'
        @(Get-JournalEntry grow DataThreshold)[0].PRIORITY | Should -Be '4'
        # The low water mark moved with each step.
        $blocks = $steps[-1].NewSize / 64KB
        (Get-DmTable grow) | Should -Match " 128 $([math]::Floor($blocks * 30 / 100)) "
        (Test-ThinPool grow -StateRoot $root -Quiet) | Should -BeTrue
        Disable-ThinPool grow -DeactivateVolumes -StateRoot $root
        Test-ThinMetadata (Get-ThinPool grow -StateRoot $root).MetadataPath | Should -BeNullOrEmpty
        Remove-ThinPool grow -DeleteBackingFiles -Force -StateRoot $root   # frees the guest's memory
    }

    It 'without autoextend, fails the write of an error_if_no_space pool at once and reports out_of_data_space' {
        $null = New-ThinPool -Name full -DataSize 256MB -MetadataSize 16MB -SkipBlockZeroing -StateRoot $root |
            New-ThinVolume -Name data -Size 1GB
        Set-ThinPool full -NoSpacePolicy Error -StateRoot $root
        $watcher = Start-Watcher full $root

        $write = Write-Zeros /dev/mapper/full-data 768
        Start-Sleep -Seconds 3
        $events = Stop-Watcher $watcher
        Write-Host ($events | Format-Table Time, Kind, Mode, DataUsedPercent, Message -AutoSize | Out-String -Width 200)
        Write-Host "dd: $($write.Seconds) s: $($write.Output)"

        $write.ExitCode | Should -Not -Be 0
        $write.Output | Should -Match 'No space left on device|Input/output error'
        $write.Seconds | Should -BeLessThan 30
        $events.Kind | Should -Not -Contain 'Extended'
        ($events | Where-Object Kind -eq 'DataThreshold').Message | Should -Match 'autoextend is off'
        $change = $events | Where-Object { $_.Kind -eq 'ModeChanged' -and $_.Mode -eq 'OutOfDataSpace' }
        $change | Should -Not -BeNullOrEmpty
        $change[0].PreviousMode | Should -Be 'ReadWrite'
        $status = Get-PoolStatus full -StateRoot $root
        $status.Mode | Should -Be 'OutOfDataSpace'
        $status.DataSpaceTotal | Should -Be 256MB
        Disable-ThinPool full -DeactivateVolumes -StateRoot $root
        Test-ThinMetadata (Get-ThinPool full -StateRoot $root).MetadataPath | Should -BeNullOrEmpty
        Remove-ThinPool full -DeleteBackingFiles -Force -StateRoot $root
    }

    It 'grows the metadata when snapshots fill a small metadata device' -Tag FullOnly {
        $null = New-ThinPool -Name meta -DataSize 1GB -MetadataSize 2MB -SkipBlockZeroing -StateRoot $root |
            New-ThinVolume -Name base -Size 256MB
        $written = Write-Zeros /dev/mapper/meta-base 256
        $written.ExitCode | Should -Be 0 -Because $written.Output
        Set-ThinPool meta -MetadataAutoextendThreshold 60 -MetadataAutoextendPercent 100 -StateRoot $root
        $watcher = Start-Watcher meta $root -CheckInterval 1
        $block = [byte[]]::new(4096); [Random]::new(7).NextBytes($block)
        $batch = 0
        # Each snapshot written at 8 places unshares 8 leaves of the mapping tree: a few metadata blocks each.
        while ((Get-PoolStatus meta -StateRoot $root).MetadataSpaceTotal -eq 2MB -and $batch -lt 60) {
            $batch++
            $names = 1..4 | ForEach-Object { "b$batch-$_" }   # about 7% of the metadata per batch
            foreach ($snapshot in New-ThinSnapshot -Pool meta -Origin base -Name $names -StateRoot $root) {
                $stream = [IO.File]::Open($snapshot.DevicePath, 'Open', 'ReadWrite', 'ReadWrite')
                try {
                    foreach ($offset in 0..7) { $stream.Position = $offset * 32MB; $stream.Write($block, 0, 4096) }
                    $stream.Flush($true)
                }
                finally { $stream.Dispose() }
            }
            $status = Get-PoolStatus meta -StateRoot $root
            Write-Host "batch ${batch}: metadata $($status.MetadataUsedPercent)% of $($status.MetadataSpaceTotal)"
            Start-Sleep -Milliseconds 1500   # paced as an orchestrator's snapshots are, so the watcher keeps up
        }
        $events = Stop-Watcher $watcher
        Write-Host ($events | Format-Table Time, Kind, Space, MetadataUsedPercent, OldSize, NewSize, Message -AutoSize | Out-String -Width 200)

        $events.Kind | Should -Contain 'MetadataThreshold'
        $step = @($events | Where-Object { $_.Kind -eq 'Extended' -and $_.Space -eq 'Metadata' })
        $step.Count | Should -BeGreaterOrEqual 1
        $step[0].OldSize | Should -Be 2MB
        $step[0].NewSize | Should -Be 4MB
        $status = Get-PoolStatus meta -StateRoot $root
        $status.MetadataSpaceTotal | Should -BeGreaterOrEqual 4MB
        $status.NeedsCheck | Should -BeFalse
        $status.Mode | Should -Be 'ReadWrite'
        (Get-Item (Get-ThinPool meta -StateRoot $root).MetadataPath).Length | Should -Be $status.MetadataSpaceTotal
        Disable-ThinPool meta -DeactivateVolumes -StateRoot $root
        Test-ThinMetadata (Get-ThinPool meta -StateRoot $root).MetadataPath | Should -BeNullOrEmpty
        Remove-ThinPool meta -DeleteBackingFiles -Force -StateRoot $root
    }

    It 'grows a direct pool to the end of its device, reports the limit, and grows again once the device grew' -Tag FullOnly {
        $files = foreach ($name in 'ddata', 'dmeta') { $path = Join-Path $root "$name.img"; Invoke-Tool truncate @('-s', '256M', $path) | Out-Null; $path }
        $loops = foreach ($file in $files) { (Invoke-Tool losetup @('-f', '--show', $file)).Trim() }
        try {
            $null = New-ThinPool -Name direct -DataDevice $loops[0] -MetadataDevice $loops[1] -StateRoot $root |
                New-ThinVolume -Name data -Size 1GB
            Set-ThinPool direct -AutoextendThreshold 70 -AutoextendPercent 50 -StateRoot $root
            $watcher = Start-Watcher direct $root -CheckInterval 1
            (Write-Zeros /dev/mapper/direct-data 200).ExitCode | Should -Be 0
            Start-Sleep -Seconds 3
            # The device grows (a bigger LUN, an lvextend under it): the next check takes the room.
            Invoke-Tool truncate @('-s', '512M', $files[0]) | Out-Null
            Invoke-Tool losetup @('-c', $loops[0]) | Out-Null
            $clock = [Diagnostics.Stopwatch]::StartNew()
            while ((Get-PoolStatus direct -StateRoot $root).DataSpaceTotal -eq 256MB -and $clock.Elapsed.TotalSeconds -lt 30) { Start-Sleep -Milliseconds 250 }
            $events = Stop-Watcher $watcher
            Write-Host ($events | Format-Table Time, Kind, DataUsedPercent, OldSize, NewSize, Message -AutoSize | Out-String -Width 200)
            $limit = $events | Where-Object Kind -eq 'LimitReached'
            $limit | Should -Not -BeNullOrEmpty
            $limit[0].Message | Should -Match 'the end of its device'
            $step = @($events | Where-Object Kind -eq 'Extended')
            $step | Should -HaveCount 1
            $step[0].OldSize | Should -Be 256MB
            $step[0].NewSize | Should -Be 384MB                      # one step of 50%, within the 512 MiB device
            (Get-PoolStatus direct -StateRoot $root).DataSpaceTotal | Should -Be 384MB
            Disable-ThinPool direct -DeactivateVolumes -StateRoot $root
            Test-ThinMetadata $loops[1] | Should -BeNullOrEmpty
            Remove-ThinPool direct -Force -StateRoot $root
        }
        finally { foreach ($loop in $loops) { Invoke-Tool losetup @('-d', $loop) -AllowFailure | Out-Null } }
    }

    It 'refuses a second watcher, stops at once on SIGINT, and under -WhatIf changes nothing' -Tag FullOnly {
        $null = New-ThinPool -Name twice -DataSize 256MB -MetadataSize 16MB -SkipBlockZeroing -StateRoot $root |
            New-ThinVolume -Name data -Size 512MB
        (Write-Zeros /dev/mapper/twice-data 200).ExitCode | Should -Be 0
        Set-ThinPool twice -AutoextendThreshold 70 -AutoextendPercent 25 -StateRoot $root
        (Get-PoolStatus twice -StateRoot $root).AutoextendEnabled | Should -BeTrue
        $tableBefore = Get-DmTable twice
        $fileBefore = (Get-Item (Get-ThinPool twice -StateRoot $root).DataPath).Length

        # A service's watcher: its own pwsh, stopped with SIGINT as systemd's KillSignal does.
        $out = Join-Path $root 'watch.out'
        $command = "Import-Module '$env:DMPS_MODULE_MANIFEST'; Watch-ThinPool twice -StateRoot '$root' -WhatIf | ForEach-Object ToString"
        $process = Start-Process (Join-Path $PSHOME 'pwsh') -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $command -RedirectStandardOutput $out -PassThru
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not (Get-PoolStatus twice -StateRoot $root).Watched -or -not (Select-String -Path $out -Pattern 'What if' -Quiet)) {
            if ($process.HasExited -or $clock.Elapsed.TotalSeconds -gt 120) { throw "The watcher did not start: $(Get-Content -Raw $out)" }
            Start-Sleep -Milliseconds 250
        }
        { Watch-ThinPool twice -StateRoot $root -Timeout 5 -ErrorAction Stop } | Should -Throw -ErrorId 'PoolWatched,*'
        $clock.Restart()
        & (Resolve-Tool kill) -INT $process.Id
        $process.WaitForExit(30000) | Should -BeTrue
        Write-Host "stopped $([int]$clock.Elapsed.TotalMilliseconds) ms after SIGINT"
        $text = Get-Content -Raw $out
        Write-Host $text
        $text | Should -Match 'twice Started: watching: data 78'
        $text | Should -Match 'What if: Resize thin pool .twice.'
        $text | Should -Match 'load table: 0 655360 thin-pool'    # 320 MiB, one step
        (Get-PoolStatus twice -StateRoot $root).Watched | Should -BeFalse
        Get-DmTable twice | Should -BeExactly $tableBefore
        (Get-Item (Get-ThinPool twice -StateRoot $root).DataPath).Length | Should -Be $fileBefore
    }

    # In CI the systemd guest covers this: systemctl stop of the real unit (tests/Pester/Systemd).
    It 'stops within seconds on SIGTERM when started as systemd starts it' -Tag FullOnly {
        # Its own session, stdin on /dev/null, output to a file: where pwsh alone ignores signals.
        $null = New-ThinPool -Name term -DataSize 64MB -MetadataSize 4MB -StateRoot $root
        $out = Join-Path $root 'term.out'
        $command = "Import-Module '$env:DMPS_MODULE_MANIFEST'; Watch-ThinPool term -StateRoot '$root' -Verbose | ForEach-Object ToString"
        $term = Start-Process (Resolve-Tool setsid) -ArgumentList (Join-Path $PSHOME 'pwsh'), '-NoProfile', '-NonInteractive', '-Command', $command `
            -RedirectStandardInput /dev/null -RedirectStandardOutput $out -RedirectStandardError (Join-Path $root 'term.err') -PassThru
        Wait-Watched term $term $out
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & (Resolve-Tool kill) -TERM $term.Id
        $term.WaitForExit(30000) | Should -BeTrue -Because 'the watcher should end on SIGTERM'
        Write-Host "stopped $([int]$clock.Elapsed.TotalMilliseconds) ms after SIGTERM"
        (Get-Content -Raw $out) | Should -Match 'stopped by SIGTERM'
        $term.ExitCode | Should -Be 143          # ended by SIGTERM, as systemd expects of its stop
        (Get-PoolStatus term -StateRoot $root).Watched | Should -BeFalse
    }

    It 'stops within seconds on SIGINT when started by Start-Process with nothing redirected' -Tag FullOnly {
        $null = New-ThinPool -Name int -DataSize 64MB -MetadataSize 4MB -StateRoot $root
        $command = "Import-Module '$env:DMPS_MODULE_MANIFEST'; Watch-ThinPool int -StateRoot '$root' -Verbose | ForEach-Object ToString"
        $int = Start-Process (Join-Path $PSHOME 'pwsh') -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $command -PassThru
        Wait-Watched int $int
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & (Resolve-Tool kill) -INT $int.Id
        $int.WaitForExit(30000) | Should -BeTrue -Because 'the watcher should end on SIGINT'
        Write-Host "stopped $([int]$clock.Elapsed.TotalMilliseconds) ms after SIGINT"
        # pwsh's own Ctrl+C handling may also stop the pipeline (exit 1, as after Ctrl+C); either way the watch ended cleanly.
        $int.ExitCode | Should -BeIn @(0, 1)
        (Get-PoolStatus int -StateRoot $root).Watched | Should -BeFalse
    }

    It 'reports a pool that is deactivated and active again, and ends the watch of a removed pool' -Tag FullOnly {
        $null = New-ThinPool -Name gone -DataSize 256MB -MetadataSize 16MB -StateRoot $root
        $watcher = Start-Watcher gone $root -CheckInterval 1
        Disable-ThinPool gone -StateRoot $root
        Start-Sleep -Seconds 3
        $null = Enable-ThinPool gone -StateRoot $root
        Start-Sleep -Seconds 3
        Remove-ThinPool gone -DeleteBackingFiles -Force -StateRoot $root
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while ($watcher.State -eq 'Running' -and $clock.Elapsed.TotalSeconds -lt 30) { Start-Sleep -Milliseconds 200 }
        $watcher.State | Should -Be 'Completed'                    # the watch ended by itself
        $events = Stop-Watcher $watcher
        ($events.Kind -join ',') | Should -Match 'Started,Inactive,Active,.*Removed'
    }
}
