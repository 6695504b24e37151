# The benchmark's short version (guest lane only): every contender but LVM runs every operation
# once, so that `./build.ps1 -Task Benchmark` keeps working (LVM's commands are the slowest part
# under TCG; Lvm.Tests.ps1 runs LVM, and the Benchmark task measures it). No timing is asserted
# here: these machines are shared and noisy; the Benchmark task prints the figures and ratios.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
    $repository = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
    $script:floor = Join-Path $repository 'out/benchmark/floor'
    $script:output = Join-Path ([IO.Path]::GetTempPath()) "dmps-benchmark-$([guid]::NewGuid().ToString('n').Substring(0, 8)).json"
    $script:devicesBefore = (Invoke-Tool dmsetup @('ls')) -split "`n" | Sort-Object
    $driver = Join-Path $repository 'out/artifacts/bin/DmPowerShell.Tests.Driver/release/DmPowerShell.Tests.Driver.dll'
    & (Join-Path $repository 'benchmark/Invoke-Benchmark.ps1') -Count 1 -LvmCount 1 -LvmMaxLevel 0 -Levels 2 -Bulk 2 -WarmUp 1 -StreamMiB 2 -Floor $script:floor -Driver $driver -OutputFile $script:output 6>$null
    $script:report = Get-Content -Raw $script:output | ConvertFrom-Json
}

AfterAll { Remove-Item $script:output -ErrorAction SilentlyContinue }

Describe 'Benchmark (short)' -Tag Kernel, Benchmark {
    It '<Contender> measured <Operation>' -ForEach @(
        foreach ($operation in 'create+activate', 'snapshot+activate', 'deactivate+remove') {
            foreach ($contender in 'module', 'core', 'floor', 'dmsetup') { @{ Contender = $contender; Operation = $operation } }
        }
        @{ Contender = 'minimal'; Operation = 'create+activate' }
        @{ Contender = 'minimal'; Operation = 'snapshot+activate' }
        @{ Contender = 'module'; Operation = 'snapshot x2 (each)' }
        @{ Contender = 'floor'; Operation = 'snapshot x2 (each)' }
        @{ Contender = 'module'; Operation = 'Get-PoolStatus' }
        @{ Contender = 'dmsetup'; Operation = 'Get-PoolStatus' }
        @{ Contender = 'module'; Operation = 'Get-ThinVolume (one, by name)' }
        @{ Contender = 'module'; Operation = 'Get-ThinVolume (all)' }
        @{ Contender = 'dmsetup'; Operation = 'status (all devices)' }
        foreach ($operation in 'export full', 'export 1 % incremental', 'import full', 'import 1 % incremental') { @{ Contender = 'module'; Operation = $operation } }
        @{ Contender = 'dd'; Operation = 'full copy through the devices' }
    ) {
        $row = $script:report.Results | Where-Object { $_.Contender -eq $Contender -and $_.Operation -eq $Operation }
        $row | Should -Not -BeNullOrEmpty
        $row.Milliseconds | Should -BeGreaterThan 0
        if ($Contender -in 'module', 'core' -and $Operation -notlike 'status*') { $row.KernelCalls | Should -BeGreaterThan 0 }
    }

    It 'leaves the pool metadata clean and no device, loop or volume group behind' {
        $script:report.MetadataClean | Should -BeTrue
        @($script:report.SessionMemory).Count | Should -Be 1
        $script:report.SessionMemory[0].HeapBytes | Should -BeGreaterThan 0
        (Invoke-Tool dmsetup @('ls')) -split "`n" | Sort-Object | Should -Be $script:devicesBefore
        Get-LoopBackingFiles | Where-Object { $_ -like '*dmps-bench-*' } | Should -BeNullOrEmpty
    }

    It 'makes a table with every ratio and target from the results' {
        Import-Module (Join-Path $PSScriptRoot '../../../benchmark/BenchmarkReport.psm1') -Force
        $table = Get-BenchmarkTable $script:report.Results
        ($table | Where-Object Operation -eq 'snapshot+activate').'Module/Floor' | Should -BeGreaterThan 0
        ($table | Where-Object Operation -eq 'snapshot+activate').'Module/Minimal' | Should -BeGreaterThan 0
        @(Get-BenchmarkTargets $script:report.Results).Count | Should -BeGreaterThan 3
    }
}
