# The module on a host that systemd boots (build.ps1 -Task SystemdTest; CI's third guest):
# systemd is PID 1 of the guest, udev runs, the root is the host's under an overlay whose upper
# layer is a disk that outlives a reboot. The first boot installs the module and its units as
# README says, makes a pool with two volumes (one ext4 in /etc/fstab) and enables the units; the
# guest then reboots (systemd's own shutdown: the mount, then dmpowershell-pools.service's stop)
# and the second boot checks what the units did: the pool and volumes up before local-fs.target,
# the fstab mount and its data, the watcher extending the pool, its journal, restart and stop,
# the metrics timer. Tag FirstBoot runs in the first boot, SecondBoot in the second.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot '../Kernel/KernelLane.psm1') -Force
    Assert-KernelLane
    if ((Get-Content -Raw /proc/1/comm).Trim() -ne 'systemd') {
        throw 'These tests need systemd as PID 1: build.ps1 -Task SystemdTest boots such a guest.'
    }
    $script:Job = $env:DMPS_JOB ?? $(throw 'DMPS_JOB (the job folder) is not set.')
    $script:MountPoint = '/srv/data'
    $script:Metrics = '/var/lib/prometheus/node-exporter/dmpowershell.prom'
    $script:Watch = 'dmpowershell-watch@web.service'
    $script:Repository = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path

    function Invoke-Systemctl {
        $output = & (Resolve-Tool systemctl) @args 2>&1 | Out-String
        if ($LASTEXITCODE -ne 0) { throw "systemctl $($args -join ' ') exited with ${LASTEXITCODE}: $output" }
        $output
    }
    function Get-UnitProperty([string] $Unit, [string] $Property) {
        (& (Resolve-Tool systemctl) show $Unit -p $Property --value 2>&1 | Out-String).Trim()
    }
    function Wait-Until([scriptblock] $Condition, [int] $Seconds, [string] $What) {
        # Waits for a state systemd reaches on its own; pwsh starts in the units take 10-60 s here.
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not (& $Condition)) {
            if ($clock.Elapsed.TotalSeconds -gt $Seconds) { throw "Not within $Seconds s: $What" }
            Start-Sleep -Milliseconds 500
        }
        $clock.Elapsed.TotalSeconds
    }
    function Get-WatchJournal([string[]] $Match) {
        & (Resolve-Tool journalctl) -u $script:Watch -b --no-pager -o json @Match 2>&1 |
            Where-Object { $_ -like '{*' } | ForEach-Object { $_ | ConvertFrom-Json }
    }
}

Describe 'First boot: installed and set up as README says' -Tag FirstBoot {
    It 'installs pwsh and the module in the all-users path' {
        # pwsh stands in for Microsoft's package (which puts it at /usr/bin/pwsh); without tiered
        # compilation, as every .NET process of the guest lane (TCG pays dearly for its call counting).
        Set-Content /usr/bin/pwsh "#!/bin/sh`nDOTNET_TieredCompilation=0 exec /usr/bin/dotnet '$env:PWSH_DLL' `"`$@`"`n" -NoNewline
        & (Resolve-Tool chmod) 755 /usr/bin/pwsh
        $modules = '/usr/local/share/powershell/Modules'
        $null = New-Item -ItemType Directory -Force $modules
        Copy-Item -Recurse (Split-Path $env:DMPS_MODULE_MANIFEST) (Join-Path $modules 'DmPowerShell')
        Test-Path (Join-Path $modules 'DmPowerShell/DmPowerShell.psd1') | Should -BeTrue   # the units' Import-Module finds it (next test)
    }

    It 'makes a pool with two volumes, one ext4 volume mounted through /etc/fstab' {
        $data = New-ThinPool -Name web -DataSize 256MB -MetadataSize 16MB -SkipBlockZeroing |
            New-ThinVolume -Name data -Size 256MB -FileSystem ext4
        $null = New-ThinVolume -Pool web -Name scratch -Size 1GB
        Set-ThinPool web -AutoextendThreshold 70 -AutoextendPercent 25
        $data.DevicePath | Should -Be '/dev/mapper/web-data'
        $null = New-Item -ItemType Directory -Force $script:MountPoint
        Add-Content /etc/fstab "$($data.DevicePath) $($script:MountPoint) ext4 defaults 0 2"
        $null = Invoke-Systemctl daemon-reload
        Invoke-Tool mount @($script:MountPoint)
        $file = Join-Path $script:MountPoint 'payload'
        $bytes = [byte[]]::new(8MB)
        [Random]::new(21).NextBytes($bytes)
        [IO.File]::WriteAllBytes($file, $bytes)
        Invoke-Tool sync
        Set-Content (Join-Path $script:Job 'payload.sha256') (Get-FileHash $file -Algorithm SHA256).Hash
        (Get-ThinVolume -Pool web).Name | Sort-Object | Should -Be @('data', 'scratch')
    }

    It "enables the units with README's four lines, run as written" {
        $readme = Get-Content -Raw (Join-Path $script:Repository 'README.md')
        $lines = [regex]::Match($readme, '(?s)On a host, as root.*?```bash\n(.*?)```').Groups[1].Value
        @($lines.Trim() -split '\n').Count | Should -Be 4
        Push-Location $script:Repository
        try { $output = & (Resolve-Tool bash) -e -c $lines 2>&1 | Out-String }
        finally { Pop-Location }
        $LASTEXITCODE | Should -Be 0 -Because $output
        foreach ($unit in 'dmpowershell-pools.service', $script:Watch, 'dmpowershell-metrics.timer') {
            (& (Resolve-Tool systemctl) is-enabled $unit 2>&1 | Out-String).Trim() | Should -Be 'enabled'
            Get-UnitProperty $unit ActiveState | Should -Be 'active'
        }
        $null = Wait-Until { (Get-PoolStatus web).Watched } 300 'the watcher holding the pool'
        # The volume stays mounted: the reboot's shutdown unmounts it, then stops the pools' unit.
        (& (Resolve-Tool findmnt) -n -o SOURCE $script:MountPoint | Out-String).Trim() | Should -Be '/dev/mapper/web-data'
    }
}

Describe 'Second boot: what the units did' -Tag SecondBoot {
    AfterAll {
        # The pool's metadata after both boots: thin_check on the deactivated pool, then nothing left.
        $null = & (Resolve-Tool systemctl) stop $script:Watch 2>&1
        Invoke-Tool umount @($script:MountPoint)
        Set-Content /etc/fstab @(Get-Content /etc/fstab | Where-Object { $_ -notmatch 'web-data' })
        $null = Invoke-Systemctl daemon-reload
        # Who still sees the file system (another mount namespace keeps its own copy of a mount).
        foreach ($process in [IO.Directory]::GetDirectories('/proc') | Where-Object { (Split-Path -Leaf $_) -match '^\d+$' }) {
            $line = try { [IO.File]::ReadAllLines("$process/mountinfo") | Where-Object { $_ -like '* /srv/data *' } } catch { $null }
            if ($line) { Write-Host "still mounted for $process ($([IO.File]::ReadAllText("$process/comm").Trim()), $([IO.File]::ResolveLinkTarget("$process/ns/mnt", $false))): $line" }
        }
        $pool = Get-ThinPool web
        Disable-ThinPool web -DeactivateVolumes -Confirm:$false
        $check = Test-ThinMetadata $pool.MetadataPath
        Remove-ThinPool web -DeleteBackingFiles -Force
        $check | Should -BeNullOrEmpty
    }

    It 'brought the pool and both volumes up before local-fs.target, so fstab mounted the data' {
        Get-UnitProperty dmpowershell-pools.service ActiveState | Should -Be 'active'
        Get-UnitProperty dmpowershell-pools.service Result | Should -Be 'success'
        (& (Resolve-Tool findmnt) -n -o SOURCE $script:MountPoint | Out-String).Trim() | Should -Be '/dev/mapper/web-data'
        Get-UnitProperty srv-data.mount Result | Should -Be 'success'
        $poolsUp = [long](Get-UnitProperty dmpowershell-pools.service ActiveEnterTimestampMonotonic)
        $mounted = [long](Get-UnitProperty srv-data.mount ActiveEnterTimestampMonotonic)
        $localFs = [long](Get-UnitProperty local-fs.target ActiveEnterTimestampMonotonic)
        $poolsUp | Should -BeGreaterThan 0
        $poolsUp | Should -BeLessThan $mounted
        $mounted | Should -BeLessOrEqual $localFs
        (Get-FileHash (Join-Path $script:MountPoint 'payload') -Algorithm SHA256).Hash |
            Should -Be (Get-Content (Join-Path $script:Job 'payload.sha256'))
        (Get-ThinVolume -Pool web | Where-Object Active).Name | Sort-Object | Should -Be @('data', 'scratch')
        # The first boot ended with systemd's shutdown: the unit's stop deactivated the pool then.
        $previous = & (Resolve-Tool journalctl) -b -1 -u dmpowershell-pools.service --no-pager 2>&1 | Out-String
        $previous | Should -Match 'Stopped dmpowershell-pools.service|dmpowershell-pools.service: Deactivated successfully'
        $previous | Should -Not -Match 'Failed with result'
    }

    It 'writes the pool metrics from the timer' {
        Get-UnitProperty dmpowershell-metrics.timer ActiveState | Should -Be 'active'
        # The timer's first run is a minute after boot (the guest stretches its later ones: guest/init).
        $size = (Get-PoolStatus web).DataSpaceTotal
        $null = Wait-Until { [long](Get-UnitProperty dmpowershell-metrics.service ExecMainExitTimestampMonotonic) -gt 0 } 240 'a run of dmpowershell-metrics.service in this boot'
        Get-UnitProperty dmpowershell-metrics.service Result | Should -Be 'success'
        $lines = Get-Content $script:Metrics
        $lines | Should -Contain "dmpowershell_pool_data_size_bytes{pool=`"web`",device=`"web`",manager=`"DmPowerShell`"} $size"
        $lines | Should -Contain 'dmpowershell_pool_volumes{pool="web",device="web",manager="DmPowerShell"} 2'
    }

    It 'runs the watcher systemd started at boot' {
        $null = Wait-Until { (Get-UnitProperty $script:Watch ActiveState) -eq 'active' -and (Get-PoolStatus web).Watched } 300 'the watcher running and holding the pool'
        $mainPid = Get-UnitProperty $script:Watch MainPID
        (Get-PoolStatus web).WatchedBy | Should -Match "^process $mainPid\b"
    }

    It 'extends the pool under a write; systemctl status and journalctl -u show each step with its fields' {
        $output = & (Resolve-Tool dd) if=/dev/zero of=/dev/mapper/web-scratch bs=1M count=400 oflag=direct 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        $null = Wait-Until { (Get-PoolStatus web).DataSpaceTotal -ge 400MB } 120 'the pool grown to hold the write'
        $steps = @(Get-WatchJournal @('POOL_EVENT=Extended'))
        $steps.Count | Should -BeGreaterOrEqual 2
        $steps[0].POOL | Should -Be 'web'
        $steps[0]._SYSTEMD_UNIT | Should -Be $script:Watch
        $steps[0].POOL_SPACE | Should -Be 'Data'
        $steps[0].OLD_SIZE | Should -Be '268435456'
        $steps[0].NEW_SIZE | Should -Be '335544320'
        $status = & (Resolve-Tool systemctl) status $script:Watch --no-pager -n 50 2>&1 | Out-String
        Write-Host $status
        $status | Should -Match 'Active: active \(running\)'
        $status | Should -Match 'web Extended: data grown from 256 MiB to 320 MiB'
        (Get-PoolStatus web).Mode | Should -Be 'ReadWrite'
    }

    It 'is started again by systemd after it is killed' -Tag FullOnly {
        $killed = Get-UnitProperty $script:Watch MainPID
        Invoke-Tool kill @('-KILL', $killed)
        $seconds = Wait-Until {
            $now = Get-UnitProperty $script:Watch MainPID
            $now -notin '0', $killed -and (Get-PoolStatus web).WatchedBy -match "^process $now\b"
        } 300 'the watcher started again after SIGKILL'
        Write-Host "watcher back $([int]$seconds) s after SIGKILL (RestartSec=10)"
        [int](Get-UnitProperty $script:Watch NRestarts) | Should -Be 1
    }

    It 'stops cleanly on systemctl stop' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $null = Invoke-Systemctl stop $script:Watch
        Write-Host "systemctl stop took $([math]::Round($clock.Elapsed.TotalSeconds, 1)) s (TimeoutStopSec=30)"
        Get-UnitProperty $script:Watch ActiveState | Should -Be 'inactive'
        Get-UnitProperty $script:Watch Result | Should -Be 'success'       # not 'timeout', not 'signal'
        (Get-PoolStatus web).Watched | Should -BeFalse
        $journal = & (Resolve-Tool journalctl) -u $script:Watch -b --no-pager 2>&1 | Out-String
        $journal | Should -Match 'dmpowershell-watch@web.service: Deactivated successfully'
    }

}
