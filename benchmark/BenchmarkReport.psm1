# Host side of the benchmark: the Import-Module cost, and the table of results with the ratios
# and the targets of issues 7, 17, 18 and 19, from the guest's JSON.

function Measure-ModuleImport {
    # Import-Module above a bare pwsh start (medians of $Runs fresh processes each), and the
    # memory the module adds to a session (GC heap and working set, after a full collection).
    param([Parameter(Mandatory)] [string] $PwshDll, [Parameter(Mandatory)] [string] $Manifest, [int] $Runs = 7)
    function Get-Median([double[]] $Values) { $sorted = $Values | Sort-Object; $sorted[[int][math]::Floor($sorted.Count / 2)] }
    function Measure-Start([string] $Command) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        & dotnet $PwshDll -NoProfile -NonInteractive -Command $Command | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "pwsh -Command '$Command' exited with $LASTEXITCODE" }
        $watch.Elapsed.TotalMilliseconds
    }
    $null = Measure-Start 'exit'   # warms the file cache for both
    $bare = @(); $imported = @()
    for ($i = 0; $i -lt $Runs; $i++) {
        $bare += Measure-Start 'exit'
        $imported += Measure-Start "Import-Module '$Manifest'; exit"
    }
    $memory = & dotnet $PwshDll -NoProfile -NonInteractive -Command @"
`$gc0 = [GC]::GetTotalMemory(`$true); `$ws0 = [Diagnostics.Process]::GetCurrentProcess().WorkingSet64
Import-Module '$Manifest'
`$gc1 = [GC]::GetTotalMemory(`$true); `$p = [Diagnostics.Process]::GetCurrentProcess(); `$p.Refresh()
"{0} {1}" -f (`$gc1 - `$gc0), (`$p.WorkingSet64 - `$ws0)
"@
    $heap, $workingSet = "$memory".Trim() -split ' '
    [pscustomobject]@{
        BareStartMs = [math]::Round((Get-Median $bare), 1)
        ImportedStartMs = [math]::Round((Get-Median $imported), 1)
        ImportMs = [math]::Round((Get-Median $imported) - (Get-Median $bare), 1)
        HeapBytes = [long]$heap
        WorkingSetBytes = [long]$workingSet
    }
}

function Get-BenchmarkTable {
    # One row per operation and pool population: each contender's mean, and the ratios of the same run.
    param([Parameter(Mandatory)] $Results)
    $operations = 'create+activate', 'snapshot+activate', 'deactivate+remove'
    foreach ($group in $Results | Group-Object Operation, Level) {
        $first = $group.Group[0]
        $by = @{}; foreach ($r in $group.Group) { $by[$r.Contender] = [double]$r.Milliseconds }
        $module = $by['module']; $floor = $by['floor']
        $moduleRow = $group.Group | Where-Object Contender -eq 'module' | Select-Object -First 1
        [pscustomobject]@{
            Operation = $first.Operation
            Volumes = [int]$first.Level
            ModuleMs = $module
            # The profile: the module's time inside libdevmapper calls (and how many), and the core services without PowerShell.
            'Module in dm' = if ($moduleRow -and $null -ne $moduleRow.KernelMs) { '{0} ({1} calls)' -f $moduleRow.KernelMs, $moduleRow.KernelCalls }
            # The registry's fsyncs (files and folders) per operation: its durable writes.
            'Module fsyncs' = if ($moduleRow) { $moduleRow.Syncs }
            CoreMs = $by['core']
            FloorMs = $floor
            MinimalMs = $by['minimal']
            DmsetupMs = $by['dmsetup']
            LvmMs = $by['lvm']
            'Module/Floor' = if ($module -and $floor) { [math]::Round($module / $floor, 2) }
            'Module/Minimal' = if ($module -and $by['minimal']) { [math]::Round($module / $by['minimal'], 2) }
            'Dmsetup/Module' = if ($module -and $by['dmsetup']) { [math]::Round($by['dmsetup'] / $module, 2) }
            'Lvm/Module' = if ($module -and $by['lvm']) { [math]::Round($by['lvm'] / $module, 2) }
        }
    }
}

function Get-BenchmarkTargets {
    # Issue 7's targets, each with the figures that decide it.
    param([Parameter(Mandatory)] $Results, $Import)
    function Find([string] $Contender, [string] $Operation, [int] $Level) {
        ($Results | Where-Object { $_.Contender -eq $Contender -and $_.Operation -eq $Operation -and $_.Level -eq $Level } | Select-Object -First 1).Milliseconds
    }
    $levels = @($Results.Level | Sort-Object -Unique)
    $low = $levels[0]; $high = $levels[-1]
    foreach ($operation in 'create+activate', 'snapshot+activate', 'deactivate+remove') {
        foreach ($level in $levels) {
            $m = Find module $operation $level; $f = Find floor $operation $level
            if ($m -and $f) { [pscustomobject]@{ Target = "$operation at $level volumes within 1.2x of the floor"; Measured = "{0:N2}x ({1:N1} / {2:N1} ms)" -f ($m / $f), $m, $f; Met = ($m / $f) -le 1.2 } }
            $min = Find minimal $operation $level
            if ($m -and $min) { [pscustomobject]@{ Target = "$operation at $level volumes within 1.2x of the minimal floor (no transaction id)"; Measured = "{0:N2}x ({1:N1} / {2:N1} ms)" -f ($m / $min), $m, $min; Met = ($m / $min) -le 1.2 } }
        }
    }
    # Issue 18: bulk snapshots, flat costs up to the largest population, status and listings.
    foreach ($bulk in $Results | Where-Object { $_.Contender -eq 'module' -and $_.Operation -like 'snapshot x*' }) {
        $single = Find floor 'snapshot+activate' $bulk.Level
        if ($single) {
            [pscustomobject]@{ Target = "$($bulk.Operation) at $($bulk.Level) volumes: each at most 1/4 of the floor's single snapshot+activate"; Measured = "{0:N1} ms vs {1:N1} / 4 = {2:N1} ms" -f $bulk.Milliseconds, $single, ($single / 4); Met = $bulk.Milliseconds -le $single / 4 }
        }
    }
    if ($high -ne $low) {
        foreach ($operation in 'create+activate', 'snapshot+activate', 'deactivate+remove', 'Get-ThinVolume (one, by name)') {
            $a = Find module $operation $low; $b = Find module $operation $high
            if ($a -and $b) { [pscustomobject]@{ Target = "$operation flat from $low to $high volumes (within 1.2x)"; Measured = "{0:N2}x ({1:N1} -> {2:N1} ms)" -f ($b / $a), $a, $b; Met = ($b / $a) -le 1.2 } }
        }
        $callsLow = ($Results | Where-Object { $_.Contender -eq 'module' -and $_.Operation -eq 'Get-PoolStatus' -and $_.Level -eq $low }).KernelCalls
        $callsHigh = ($Results | Where-Object { $_.Contender -eq 'module' -and $_.Operation -eq 'Get-PoolStatus' -and $_.Level -eq $high }).KernelCalls
        if ($null -ne $callsLow -and $null -ne $callsHigh) {
            [pscustomobject]@{ Target = "Get-PoolStatus in a constant number of libdevmapper calls ($low to $high volumes)"; Measured = "$callsLow -> $callsHigh calls"; Met = $callsHigh -le $callsLow }
        }
    }
    foreach ($level in $levels | Where-Object { $_ -ge 1000 -or $_ -eq $high }) {
        $status = Find module 'Get-PoolStatus' $level; $dmsetup = Find dmsetup 'Get-PoolStatus' $level
        if ($status -and $dmsetup) {
            [pscustomobject]@{ Target = "Get-PoolStatus at $level volumes within 1.5x of dmsetup status <pool>"; Measured = "{0:N2}x ({1:N1} / {2:N1} ms)" -f ($status / $dmsetup), $status, $dmsetup; Met = ($status / $dmsetup) -le 1.5 }
        }
        $list = Find module 'Get-ThinVolume (all)' $level; $all = Find dmsetup 'status (all devices)' $level
        if ($list -and $all) {
            [pscustomobject]@{ Target = "Get-ThinVolume over $level volumes no slower than one dmsetup status"; Measured = "{0:N1} ms vs {1:N1} ms" -f $list, $all; Met = $list -le $all }
        }
    }
    # Issue 19: an incremental of 1 % changed data, exported and imported, at least 20x faster than a full copy with dd.
    foreach ($size in ($Results | Where-Object Operation -eq 'full copy through the devices').Level) {
        $dd = Find dd 'full copy through the devices' $size
        $incremental = (Find module 'export 1 % incremental' $size) + (Find module 'import 1 % incremental' $size)
        $fullStream = (Find module 'export full' $size) + (Find module 'import full' $size)
        if ($dd -and $incremental) {
            [pscustomobject]@{ Target = "$size MiB volume: export+import of 1 % changed at least 20x faster than dd of the whole volume"; Measured = "{0:N1}x ({1:N0} ms vs {2:N0} ms; full export+import {3:N0} ms)" -f ($dd / $incremental), $incremental, $dd, $fullStream; Met = ($dd / $incremental) -ge 20 }
        }
    }
    if ($Import) {
        [pscustomobject]@{ Target = 'Import-Module under 0.3 s above a bare pwsh start (host)'; Measured = "{0:N0} ms ({1:N0} - {2:N0} ms)" -f $Import.ImportMs, $Import.ImportedStartMs, $Import.BareStartMs; Met = $Import.ImportMs -lt 300 }
    }
}

Export-ModuleMember -Function Measure-ModuleImport, Get-BenchmarkTable, Get-BenchmarkTargets
