# The power-cut harness (issue 20), guest only. The state root lives on ext4 over a
# dm-log-writes device, so every write that reaches the "disk" is logged in completion order
# with its flush and FUA flags; marks bracket each operation of a workload. Replaying the log
# to a flush or FUA entry gives the disk a machine would find after losing power there; each
# such image is booted the way the pools unit boots a host (mount, Enable-ThinPool -All) and
# checked: Test-ThinPool, Repair-ThinPool when it finds something, thin_check, and every
# operation that ended before the point whole, every later one whole or absent.
Set-StrictMode -Version 3.0

$script:LogDevice = 'dmps-powercut'

function Invoke-Checked {
    # A program by argument list; its output, or a throw with it.
    param([string] $Program, [string[]] $Arguments, [switch] $AllowFailure)
    $output = & $Program @Arguments 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0 -and -not $AllowFailure) { throw "$Program $($Arguments -join ' ') failed ($LASTEXITCODE): $output" }
    $output.Trim()
}

function New-LoggedDisk {
    # ext4 on log-writes on a sparse loop file, mounted at $Mount; the log on a second file.
    param([Parameter(Mandatory)] [string] $Work, [Parameter(Mandatory)] [string] $Mount, [int] $SizeMiB = 768)
    $null = New-Item -ItemType Directory -Force $Work, $Mount
    $disk = [pscustomobject]@{
        Work = $Work; Mount = $Mount; SizeMiB = $SizeMiB
        Image = Join-Path $Work 'disk.img'; Log = Join-Path $Work 'log.img'
        DiskLoop = $null; LogLoop = $null; Device = "/dev/mapper/$script:LogDevice"
    }
    Invoke-Checked truncate @('-s', "${SizeMiB}M", $disk.Image) | Out-Null
    Invoke-Checked truncate @('-s', '4G', $disk.Log) | Out-Null
    $disk.DiskLoop = Invoke-Checked losetup @('-f', '--show', $disk.Image)
    $disk.LogLoop = Invoke-Checked losetup @('-f', '--show', $disk.Log)
    $sectors = [long]$SizeMiB * 2048
    Invoke-Checked dmsetup @('create', $script:LogDevice, '--table', "0 $sectors log-writes $($disk.DiskLoop) $($disk.LogLoop)") | Out-Null
    Invoke-Checked dmsetup @('mknodes', $script:LogDevice) | Out-Null   # no udev in the guest
    # No discard at mkfs: the image then starts as zeros and mkfs's writes are in the log.
    Invoke-Checked mkfs.ext4 @('-q', '-E', 'nodiscard', $disk.Device) | Out-Null
    Invoke-Checked mount @($disk.Device, $Mount) | Out-Null
    Add-LogMark 'mounted'
    $disk
}

function Add-LogMark([string] $Name) {
    Invoke-Checked dmsetup @('message', $script:LogDevice, '0', 'mark', $Name) | Out-Null
}

function Stop-LoggedDisk {
    # Unmounts and removes the log-writes device: the log file then holds the whole run.
    param([Parameter(Mandatory)] $Disk)
    Invoke-Checked umount @($Disk.Mount) -AllowFailure | Out-Null
    Invoke-Checked dmsetup @('remove', $script:LogDevice) -AllowFailure | Out-Null
    foreach ($loop in $Disk.DiskLoop, $Disk.LogLoop) { if ($loop) { Invoke-Checked losetup @('-d', $loop) -AllowFailure | Out-Null } }
    # Detached: a second call must not detach a loop number the replay has taken since.
    $Disk.DiskLoop = $null; $Disk.LogLoop = $null
}

function Invoke-Workload {
    # Runs each operation between its marks; returns the operations with their outcome.
    param([Parameter(Mandatory)] [object[]] $Operation)
    foreach ($op in $Operation) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        Add-LogMark "$($op.Name)-start"
        & $op.Run
        Add-LogMark "$($op.Name)-end"
        Write-Host ("workload: {0} in {1:N1} s" -f $op.Name, $watch.Elapsed.TotalSeconds)
        $op
    }
}

function Get-ReplayPoint {
    # The durable points of the log (flush and FUA entries) after the mark 'mounted', each with
    # the operation it falls in (or none, between operations), and, when -Reordered, before each
    # an image of its window (since the last durable point) that holds only the later half of
    # the window's writes, applied last first (a volatile cache may keep any subset, any order).
    param([Parameter(Mandatory)] $Log, [Parameter(Mandatory)] [string[]] $OperationName, [string[]] $Only, [switch] $Reordered)
    $marks = @{}
    foreach ($entry in $Log.Entries) { if ($entry.Mark) { $marks[$entry.Mark] = $entry.Index } }
    $mounted = $marks['mounted']
    $previous = $mounted
    # One pass (a Where-Object over the whole log per point took minutes under TCG): the writes
    # since the last durable point are collected as the entries go by.
    $window = [Collections.Generic.List[object]]::new()
    $starts = @{}; $ends = @{}
    foreach ($name in $OperationName) { $starts[$name] = $marks["$name-start"]; $ends[$name] = $marks["$name-end"] }
    foreach ($entry in $Log.Entries) {
        if ($entry.Index -le $mounted) { continue }
        if (-not $entry.IsDurablePoint) {
            if ($entry.IsWrite) { $window.Add($entry) }
            continue
        }
        $current = $null
        foreach ($name in $OperationName) {
            if ($null -ne $starts[$name] -and $starts[$name] -lt $entry.Index -and ($null -eq $ends[$name] -or $entry.Index -lt $ends[$name])) { $current = $name }
        }
        $kind = if ($entry.Flags.HasFlag([DmPowerShell.Tests.PowerCut.LogWrites.LogEntryFlags]::Flush)) { 'flush' } else { 'fua' }
        if (-not $Only -or $current -in $Only) {
            if ($Reordered -and $window.Count -ge 2) {
                # The image at the last durable point plus the later half of the writes since,
                # applied last first: operations count as ended by the durable point, started by this one.
                $later = $window.GetRange([int][math]::Floor($window.Count / 2), $window.Count - [int][math]::Floor($window.Count / 2)).ToArray()
                [array]::Reverse($later)
                [pscustomobject]@{ Index = $previous; Reach = $entry.Index; Kind = 'reordered'; Operation = $current; Window = $later }
            }
            [pscustomobject]@{ Index = $entry.Index; Reach = $entry.Index; Kind = $kind; Operation = $current; Window = @() }
        }
        $previous = $entry.Index
        $window.Clear()
    }
}

function Get-StateSummary {
    # What a failed check saw: each pool's size and each volume, active or not, with its thin id.
    $pools = foreach ($pool in @(Get-ThinPool -ErrorAction SilentlyContinue)) {
        $volumes = @(Get-ThinVolume -Pool $pool.Name -ErrorAction SilentlyContinue | ForEach-Object { "$($_.Name)#$($_.ThinId)$(if (-not $_.Active) { '(inactive)' })" })
        "$($pool.Name) $($pool.DataSize / 1MB) MiB$(if (-not $pool.Active) { ' inactive' }): $($volumes -join ' ')"
    }
    ($pools + @(& dmsetup ls 2>&1 | Where-Object { $_ -notmatch 'powercut' } | ForEach-Object { ($_ -split '\s+')[0] }) -join '; ')
}

function Test-ReplayImage {
    # Boots the image at $Disk.Mount as the pools unit would, and checks it against the
    # operations: those whose end mark precedes the point must be whole (Present), the one in
    # flight whole or absent, the rest absent. Returns clean, repaired or lost, with details.
    param([Parameter(Mandatory)] $Disk, [Parameter(Mandatory)] [string] $Image, [Parameter(Mandatory)] $Point,
        [Parameter(Mandatory)] [hashtable] $Marks, [Parameter(Mandatory)] [object[]] $Operation)
    $details = [Collections.Generic.List[string]]::new()
    $repaired = $false
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $timings = [Collections.Generic.List[string]]::new()
    $phase = { param($name) $timings.Add("${name}=$([int]$watch.Elapsed.TotalMilliseconds)"); $watch.Restart() }
    $loop = Invoke-Checked losetup @('-f', '--show', $Image)
    $mounted = $false
    try {
        $fsck = Invoke-Checked e2fsck @('-p', $loop) -AllowFailure
        if ($LASTEXITCODE -ge 4) { $details.Add("e2fsck ($LASTEXITCODE): $fsck") }
        Invoke-Checked mount @($loop, $Disk.Mount) | Out-Null
        $mounted = $true
        & $phase 'fsck+mount'
        $env:DMPS_STATE_ROOT = Join-Path $Disk.Mount 'state'
        if (Test-Path $env:DMPS_STATE_ROOT) {
            try { Enable-ThinPool -All -ErrorAction Stop | Out-Null }
            catch { $details.Add("boot: $($_.FullyQualifiedErrorId): $_") }
            foreach ($pool in @(Get-ThinPool)) {
                $problems = @(Test-ThinPool $pool.Name)
                if ($problems) {
                    try {
                        $null = Repair-ThinPool $pool.Name -Confirm:$false -WarningAction SilentlyContinue -ErrorAction Stop
                        $left = @(Test-ThinPool $pool.Name)
                        if ($left) { $details.Add("Test-ThinPool after Repair-ThinPool: $($left -join '; ')") } else { $repaired = $true }
                    }
                    catch { $details.Add("Repair-ThinPool $($pool.Name): $_") }
                }
            }
        }
        & $phase 'boot+test'
        foreach ($op in $Operation) {
            # Operations not started by the point need no check: the workload only builds on earlier ones.
            if (-not ($Marks["$($op.Name)-start"] -lt $Point.Reach)) { continue }
            $ended = $Marks["$($op.Name)-end"] -lt $Point.Index
            $present = try { [bool](& $op.Present) } catch { $false }
            if ($ended -and -not $present) { $details.Add("lost: $($op.Name) ended before the cut but is not whole ($(Get-StateSummary))") }
            elseif (-not $ended -and -not $present -and -not (& $op.Absent)) { $details.Add("torn: $($op.Name) is neither whole nor absent ($(Get-StateSummary))") }
        }
    }
    finally {
        & $phase 'checks'
        if ($mounted) {
            foreach ($pool in @(Get-ThinPool -ErrorAction SilentlyContinue)) {
                try {
                    if ($pool.Active) { Disable-ThinPool $pool.Name -DeactivateVolumes -Confirm:$false -ErrorAction Stop }
                    $check = Invoke-Checked bash @('-c', 'loop=$(losetup -r -f --show "$1") || exit 2; thin_check "$loop"; s=$?; losetup -d "$loop"; exit $s', 'thin-check', $pool.MetadataPath) -AllowFailure
                    if ($LASTEXITCODE -ne 0) { $details.Add("thin_check $($pool.Name): $check") }
                }
                catch { $details.Add("deactivating $($pool.Name): $_") }
            }
            Invoke-Checked umount @($Disk.Mount) -AllowFailure | Out-Null
        }
        Invoke-Checked losetup @('-d', $loop) -AllowFailure | Out-Null
        & $phase 'down+thin_check'
    }
    $result = if ($details.Count) { 'lost' } elseif ($repaired) { 'repaired' } else { 'clean' }
    [pscustomobject]@{ Index = $Point.Index; Kind = $Point.Kind; Operation = $Point.Operation; Result = $result; Detail = $details -join ' | '; Timings = $timings -join ' ' }
}

function Invoke-Replay {
    # Replays the log of $Disk forward to each point and checks a copy of the image there.
    # -BeforeImage: run before each image boots (direct mode puts the pool's metadata back).
    param([Parameter(Mandatory)] $Disk, [Parameter(Mandatory)] [object[]] $Operation, [string[]] $Only, [switch] $Reordered, [scriptblock] $BeforeImage)
    $log = [DmPowerShell.Tests.PowerCut.LogWrites.WriteLog]::Read($Disk.Log)
    $replayImage = Join-Path $Disk.Work 'replay.img'
    $checkImage = Join-Path $Disk.Work 'check.img'
    Invoke-Checked truncate @('-s', "$($Disk.SizeMiB)M", $replayImage) | Out-Null
    $replay = [DmPowerShell.Tests.PowerCut.LogWrites.LogReplay]::new($log, $replayImage)
    try {
        $marks = @{}
        foreach ($entry in $log.Entries) { if ($entry.Mark) { $marks[$entry.Mark] = $entry.Index } }
        $points = @(Get-ReplayPoint -Log $log -OperationName $Operation.Name -Only $Only -Reordered:$Reordered)
        $durable = @($log.Entries | Where-Object IsDurablePoint).Count
        Write-Host ("replay: {0} entries in the log, {1} durable, {2} images to check" -f $log.Entries.Count, $durable, $points.Count)
        if ($env:DMPS_POWERCUT_DEBUG) { Write-Host (($marks.GetEnumerator() | Sort-Object Value | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ' ') }
        foreach ($point in $points) {
            $replay.ReplayTo($point.Index)
            Invoke-Checked cp @('--sparse=always', $replayImage, $checkImage) | Out-Null
            if ($point.Window) { [DmPowerShell.Tests.PowerCut.LogWrites.LogReplay]::Apply($log, $checkImage, [DmPowerShell.Tests.PowerCut.LogWrites.LogEntry[]]$point.Window) }
            if ($BeforeImage) { & $BeforeImage }
            $image = Test-ReplayImage -Disk $Disk -Image $checkImage -Point $point -Marks $marks -Operation $Operation
            Write-Host ("#{0} {1} {2}: {3} ({4}) {5}" -f $image.Index, $image.Kind, $image.Operation, $image.Result, $image.Timings, $image.Detail)
            $image
            Remove-Item $checkImage
        }
    }
    finally { $replay.Dispose() }
}

Export-ModuleMember -Function New-LoggedDisk, Add-LogMark, Stop-LoggedDisk, Invoke-Workload, Get-ReplayPoint, Invoke-Replay, Test-ReplayImage
