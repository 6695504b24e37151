# The pool metrics as Prometheus reads them (guest lane only): Export-PoolMetric and
# Watch-ThinPool -MetricPath write the textfile collector's file, Debian's node_exporter serves it
# over HTTP, the values equal Get-PoolStatus, and promtool finds nothing to complain about.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
    foreach ($program in 'promtool', 'prometheus-node-exporter') {
        if (-not (Get-Command $program -ErrorAction Ignore)) { throw "$program is missing: tools/setup.sh installs prometheus and prometheus-node-exporter" }
    }

    function Get-Sample([string[]] $Lines, [string] $Metric, [string] $Pool, [hashtable] $Extra = @{}) {
        # One sample's value from exposition text, by its labels in any order (node_exporter sorts them).
        $want = @{ pool = $Pool; device = $Pool; manager = 'DmPowerShell' } + $Extra
        $found = foreach ($line in $Lines) {
            if ($line -notmatch "^dmpowershell_pool_$Metric\{(?<labels>[^}]*)\} (?<value>\S+)$") { continue }
            $value = $Matches.value
            $labels = @{}
            foreach ($m in [regex]::Matches($Matches.labels, '(\w+)="([^"]*)"')) { $labels[$m.Groups[1].Value] = $m.Groups[2].Value }
            if ($labels.Count -eq $want.Count -and @($want.Keys | Where-Object { $labels[$_] -ne $want[$_] }).Count -eq 0) { [double]$value }
        }
        @($found).Count | Should -Be 1 -Because "one sample of dmpowershell_pool_$Metric for pool $Pool $($Extra.Values)"
        $found
    }
}

# CI leaves this file to -Task FullGuestTest (its time went to the systemd guest, whose timer
# writes the same file); tests/Pester/Unit runs promtool on the alert rules on every host run.
Describe 'Pool metrics for Prometheus' -Tag Kernel, FullOnly {
    BeforeAll {
        $root = New-TestStateRoot
        $textfiles = Join-Path $root 'textfile'
        New-Item -ItemType Directory $textfiles | Out-Null
        $null = New-ThinPool -Name prom -DataSize 128MB -MetadataSize 4MB -StateRoot $root | New-ThinVolume -Name data -Size 256MB
        & (Resolve-Tool dd) if=/dev/urandom of=/dev/mapper/prom-data bs=1M count=8 oflag=direct status=none
        $null = New-ThinPool -Name promidle -DataSize 64MB -MetadataSize 4MB -StateRoot $root
        Disable-ThinPool promidle -StateRoot $root
    }
    AfterAll { Assert-CleanMetadata -StateRoot $root }

    It 'writes a file promtool accepts, served by node_exporter with the values Get-PoolStatus gives' {
        $file = Join-Path $textfiles 'dmpowershell.prom'
        # The kernel commits the metadata on its own timer: the used figures may move by a few blocks
        # between two reads, so the exported ones must lie between a read before and one after.
        $before = Get-PoolStatus prom -StateRoot $root
        $written = Export-PoolMetric -Path $file -StateRoot $root -PassThru
        $status = Get-PoolStatus prom -StateRoot $root
        $written.FullName | Should -Be $file
        # 0644 for node_exporter's own user; nothing left beside it (the temporary file was renamed).
        (Get-Item $file).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite, GroupRead, OtherRead')
        @(Get-ChildItem -Force $textfiles).Name | Should -Be @('dmpowershell.prom')
        $lint = Get-Content -Raw $file | & promtool check metrics 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $lint
        $lint.Trim() | Should -BeNullOrEmpty

        # node_exporter as Debian's package runs it, reading only the textfile collector.
        $exporter = Start-Process (Resolve-Tool prometheus-node-exporter) -PassThru -RedirectStandardError (Join-Path $root 'exporter.log') -ArgumentList `
            '--web.listen-address=127.0.0.1:9100', '--collector.disable-defaults', '--collector.textfile', "--collector.textfile.directory=$textfiles"
        try {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $scraped = $null
            while (-not $scraped) {
                try { $scraped = (Invoke-WebRequest http://127.0.0.1:9100/metrics -TimeoutSec 10).Content }
                catch { if ($exporter.HasExited -or $clock.Elapsed.TotalSeconds -gt 60) { throw "node_exporter did not answer: $(Get-Content -Raw (Join-Path $root 'exporter.log'))" }; Start-Sleep -Milliseconds 250 }
            }
        }
        finally { Stop-Process -Id $exporter.Id -ErrorAction SilentlyContinue; $exporter.WaitForExit(10000) | Out-Null }
        $lines = $scraped -split "`n"
        # The collector read the file without error, and serves every family with its HELP and TYPE.
        $lines | Should -Contain 'node_textfile_scrape_error 0'
        $lines | Should -Contain '# TYPE dmpowershell_pool_autoextend_events_total counter'

        Get-Sample $lines active prom | Should -Be 1
        $dataUsed = Get-Sample $lines data_used_bytes prom
        $dataUsed | Should -BeGreaterOrEqual $before.DataSpaceUsed
        $dataUsed | Should -BeLessOrEqual $status.DataSpaceUsed
        Get-Sample $lines data_size_bytes prom | Should -Be $status.DataSpaceTotal
        $metadataUsed = Get-Sample $lines metadata_used_bytes prom
        $metadataUsed | Should -BeGreaterOrEqual ([math]::Min($before.MetadataSpaceUsed, $status.MetadataSpaceUsed))
        $metadataUsed | Should -BeLessOrEqual ([math]::Max($before.MetadataSpaceUsed, $status.MetadataSpaceUsed))
        Get-Sample $lines metadata_size_bytes prom | Should -Be $status.MetadataSpaceTotal
        Get-Sample $lines transaction_id prom | Should -Be $status.TransactionId
        Get-Sample $lines volumes prom | Should -Be $status.ThinVolumeCount
        Get-Sample $lines provisioned_bytes prom | Should -Be $status.ProvisionedSize
        Get-Sample $lines needs_check prom | Should -Be 0
        Get-Sample $lines watched prom | Should -Be 0
        Get-Sample $lines mode prom @{ mode = 'read_write' } | Should -Be 1
        Get-Sample $lines mode prom @{ mode = 'out_of_data_space' } | Should -Be 0
        Get-Sample $lines autoextend_events_total prom @{ space = 'data' } | Should -Be 0
        $status.DataSpaceUsed | Should -BeGreaterOrEqual 8MB
        $status.ProvisionedSize | Should -Be 256MB
        # A recorded pool that is not active: only its active gauge, at 0.
        Get-Sample $lines active promidle | Should -Be 0
        @($lines | Where-Object { $_ -match 'pool="promidle"' }).Count | Should -Be 1
    }

    It 'keeps the file fresh from the watcher, which shows as watched' {
        $file = Join-Path $textfiles 'prom.prom'
        Watch-ThinPool prom -MetricPath $file -Timeout 3 -CheckInterval 1 -StateRoot $root | Out-Null
        $lines = Get-Content $file
        Get-Sample $lines watched prom | Should -Be 1
        Get-Sample $lines data_size_bytes prom | Should -Be 128MB
        @($lines | Where-Object { $_ -match 'pool="promidle"' }).Count | Should -Be 0   # only the watched pool
        # Under -WhatIf it says so and writes nothing.
        Remove-Item $file
        Watch-ThinPool prom -MetricPath $file -Timeout 2 -CheckInterval 1 -StateRoot $root -WhatIf | Out-Null
        Test-Path $file | Should -BeFalse
    }

    It 'refuses a file node_exporter would not read' {
        { Export-PoolMetric -Path (Join-Path $textfiles 'pools.txt') -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSetting,*'
        { Export-PoolMetric -Path (Join-Path $root 'missing/pools.prom') -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSetting,*'
    }
}
