# Power cuts (issue 20), CI's representative part (guest lane only): the workload runs up to
# its rename on a dm-log-writes disk, and every durable point (flush or FUA) inside two of its
# operations is replayed, booted and checked. `./build.ps1 -Task PowerCut` replays every point of every
# operation, and reordered windows too, and prints the table.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
    $repository = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
    $script:output = Join-Path ([IO.Path]::GetTempPath()) "dmps-powercut-$([guid]::NewGuid().ToString('n').Substring(0, 8)).json"
    $script:devicesBefore = (Invoke-Tool dmsetup @('ls')) -split "`n" | Sort-Object
    $assembly = Join-Path $repository 'out/artifacts/bin/DmPowerShell.Tests.PowerCut/release/DmPowerShell.Tests.PowerCut.dll'
    & (Join-Path $repository 'tests/PowerCut/Invoke-PowerCut.ps1') -Assembly $assembly -OutputFile $script:output -Only 'snapshot', 'rename' -Until 'rename'
    $script:report = Get-Content -Raw $script:output | ConvertFrom-Json
}

AfterAll { Remove-Item $script:output -ErrorAction SilentlyContinue }

Describe 'Power cuts' -Tag Kernel, PowerCut {
    It 'replays every durable point of a snapshot and a rename, and each image boots whole' {
        $images = @($script:report.Results)
        Write-Host ($images | Format-Table Index, Kind, Operation, Result, Detail -AutoSize | Out-String -Width 250)
        @($images | Where-Object Operation -eq 'snapshot').Count | Should -BeGreaterThan 0
        @($images | Where-Object Operation -eq 'rename').Count | Should -BeGreaterThan 0
        @($images | Where-Object Result -eq 'lost') | Should -BeNullOrEmpty
    }

    It 'leaves no device or loop behind' {
        (Invoke-Tool dmsetup @('ls')) -split "`n" | Sort-Object | Should -Be $script:devicesBefore
        Get-LoopBackingFiles | Where-Object { $_ -like '*dmps-powercut-*' } | Should -BeNullOrEmpty
    }
}
