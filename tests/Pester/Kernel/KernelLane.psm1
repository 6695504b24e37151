# Helpers for Pester tests that need the real kernel. They run only in the guest lane.

function Assert-KernelLane {
    # On a host these tests would find no driver, or touch the host's own devices: fail loudly.
    if ($env:DMPS_GUEST -ne '1') {
        throw 'Kernel tests run only in the guest lane (./build.ps1 -Task GuestTest); DMPS_GUEST is not set.'
    }
    if ((Get-Content /proc/misc -Raw) -notmatch 'device-mapper') {
        throw 'The guest kernel has no device-mapper driver.'
    }
}

function Select-MatrixCase {
    # The long matrices run whole only with DMPS_MATRIX=full (the Reliability task); otherwise
    # the cases marked Sample = $true, CI's representative part.
    param([Parameter(Mandatory)] [hashtable[]] $Case)
    if ($env:DMPS_MATRIX -eq 'full') { return $Case }
    $Case | Where-Object { $_.Sample }
}

function New-TestStateRoot {
    $root = Join-Path ([IO.Path]::GetTempPath()) ("dmps-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory $root | Out-Null
    $root
}

$script:ToolPaths = @{}

function Resolve-Tool {
    # A program's full path, looked up once. PowerShell searches PATH afresh each time a program
    # is called by name: ~0.5 s a call in the guest (its root is a 9p share), against ~0.1 s by path.
    param([Parameter(Mandatory)] [string] $Program)
    if (-not $script:ToolPaths.ContainsKey($Program)) {
        $script:ToolPaths[$Program] = (Get-Command $Program -CommandType Application -TotalCount 1 -ErrorAction Stop).Source
    }
    $script:ToolPaths[$Program]
}

function Invoke-Tool {
    # Runs a program with an argument list; returns its output, throws on a non-zero exit.
    # No udev runs in the guest: dmsetup is told to make its /dev/mapper nodes itself. The
    # variable reaches child processes only, never the module's own libdevmapper.
    param([Parameter(Mandatory)] [string] $Program, [string[]] $ArgumentList = @(), [switch] $AllowFailure)
    $path = Resolve-Tool $Program
    $env:DM_DISABLE_UDEV = '1'
    try { $output = & $path @ArgumentList 2>&1 | Out-String }
    finally { Remove-Item Env:DM_DISABLE_UDEV }
    if ($LASTEXITCODE -ne 0 -and -not $AllowFailure) {
        throw "$Program $($ArgumentList -join ' ') exited with ${LASTEXITCODE}: $output"
    }
    $output
}

function Assert-CleanMetadata {
    # thin_check needs the pool inactive; each pool of the root is checked on its metadata file
    # (or device), then removed with its files. Every dm device and loop left is a failure.
    param([Parameter(Mandatory)] [string] $StateRoot)
    $problems = @()
    foreach ($pool in @(Get-ThinPool -StateRoot $StateRoot)) {
        if ($pool.Active) { Disable-ThinPool -Name $pool.Name -DeactivateVolumes -StateRoot $StateRoot -Confirm:$false }
        $check = Test-ThinMetadata $pool.MetadataPath
        if ($check) { $problems += $check }
        Remove-ThinPool -Name $pool.Name -DeleteBackingFiles:($pool.Backing -eq 'Loop') -Force -StateRoot $StateRoot
    }
    Remove-Item -Recurse -Force $StateRoot -ErrorAction SilentlyContinue
    if ($problems) { throw ($problems -join [Environment]::NewLine) }
}

function Test-ThinMetadata {
    # Runs thin_check; returns nothing when clean, else the problem. thin_check opens with
    # O_DIRECT, which the guest's tmpfs refuses: a regular file is checked through a
    # read-only loop device over it, attached, checked and detached by one bash (a fixed
    # script, the path its argument): one process start instead of three.
    param([Parameter(Mandatory)] [string] $Path)
    $target = [IO.File]::ResolveLinkTarget($Path, $true)   # as stat -L: an LVM path is a link
    $check = if ((Get-Item -LiteralPath $(if ($target) { $target.FullName } else { $Path }) -Force).UnixMode.StartsWith('b')) {
        @((Resolve-Tool thin_check), $Path)
    }
    else {
        @((Resolve-Tool bash), '-c', 'loop=$(losetup -r -f --show "$1") || exit 2; thin_check "$loop"; status=$?; losetup -d "$loop"; exit $status', 'thin-check', $Path)
    }
    $output = & $check[0] $check[1..($check.Count - 1)] 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) { "thin_check $Path failed ($LASTEXITCODE): $output" }
}

function Get-DmTable([string] $Name) { (Invoke-Tool dmsetup @('table', $Name)).Trim() }

function Get-DmStatus([string] $Name) { (Invoke-Tool dmsetup @('status', $Name)).Trim() }

function Get-LoopBackingFiles {
    # .NET calls, not cmdlets: each cmdlet call costs milliseconds under TCG.
    @(foreach ($folder in [IO.Directory]::GetDirectories('/sys/block', 'loop*')) {
            $file = "$folder/loop/backing_file"
            if ([IO.File]::Exists($file)) { [IO.File]::ReadAllText($file).Trim() }
        })
}

function Get-SystemState {
    # Everything a change could touch, as one string to compare: dm tables, loop devices, and
    # every file and link under the folders. A file under 1 MiB is named with its size, inode
    # and ctime (any write or rename gives it a new ctime or inode, which no program can set
    # back); a larger one (a pool's data or metadata, which the kernel may write through its
    # loop device) by its size; lock files, which any command opens, are left out. One find,
    # not a loop in PowerShell hashing each file: this runs twice per bad-input case, and under
    # TCG every PowerShell statement is slow.
    param([Parameter(Mandatory)] [string[]] $Folder)
    $tables = Invoke-Tool dmsetup @('table') -AllowFailure
    $loops = (Get-LoopBackingFiles | Sort-Object) -join "`n"
    $roots = @($Folder | Where-Object { [IO.Directory]::Exists($_) })
    $lines = if ($roots) {
        [string[]]((Invoke-Tool find ($roots + @('!', '-name', 'lock', '(',
                            '-type', 'l', '-printf', '%p -> %l\n', '-o',
                            '-type', 'f', '-size', '-1024k', '-printf', '%p %s %i %C@\n', '-o',
                            '-type', 'f', '-printf', '%p %s\n', ')'))).Trim() -split "`n")
    }
    else { [string[]]@() }
    [Array]::Sort($lines, [StringComparer]::Ordinal)
    "$tables`n--`n$loops`n--`n$($lines -join "`n")"
}

function Write-Pattern([string] $Device, [int] $Seed, [int] $Bytes = 4MB, [long] $Offset = 0) {
    # Seeded random bytes: the same seed writes the same data, so a hash tells whether data survived.
    $data = [byte[]]::new($Bytes); [Random]::new($Seed).NextBytes($data)
    $stream = [IO.File]::Open($Device, 'Open', 'ReadWrite', 'ReadWrite')
    try { $stream.Position = $Offset; $stream.Write($data, 0, $data.Length); $stream.Flush($true) } finally { $stream.Dispose() }
}

function Get-DeviceHash([string] $Device, [int] $Bytes = 4MB) {
    $stream = [IO.File]::Open($Device, 'Open', 'Read', 'ReadWrite')
    try {
        $buffer = [byte[]]::new($Bytes); $stream.ReadExactly($buffer, 0, $Bytes)
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($buffer))
    }
    finally { $stream.Dispose() }
}

function Set-NeedsCheckFlag([string] $MetadataPath) {
    # Sets needs_check in the superblock of metadata at rest, as the kernel does when it finds the
    # metadata inconsistent (the pool comes up read-only). Block 0 is csum, flags, ...; csum is
    # crc32c over bytes 4..4095, xor 160774 (dm-thin-metadata's SUPERBLOCK_CSUM_XOR).
    $stream = [IO.File]::Open($MetadataPath, 'Open', 'ReadWrite')
    try {
        $block = [byte[]]::new(4096); $stream.ReadExactly($block, 0, 4096)
        $checksum = {
            $crc = [uint32]::MaxValue
            for ($i = 4; $i -lt 4096; $i++) {
                $crc = $crc -bxor $block[$i]
                for ($bit = 0; $bit -lt 8; $bit++) { $crc = if ($crc -band 1) { ($crc -shr 1) -bxor 0x82F63B78u } else { $crc -shr 1 } }
            }
            [uint32]($crc -bxor 160774)
        }
        if ([BitConverter]::ToUInt32($block, 0) -ne (& $checksum)) { throw "the superblock checksum of $MetadataPath is not what the kernel computes" }
        [BitConverter]::GetBytes([uint32]([BitConverter]::ToUInt32($block, 4) -bor 1)).CopyTo($block, 4)
        [BitConverter]::GetBytes((& $checksum)).CopyTo($block, 0)
        $stream.Position = 0; $stream.Write($block, 0, 4096); $stream.Flush($true)
    }
    finally { $stream.Dispose() }
}

function Initialize-TestLvm {
    # LVM with the project's own lvm.conf (LVM_SYSTEM_DIR under the test's folder, udev off: none
    # runs in the guest) and loop devices on sparse files standing in for disks; returns the loops.
    param([Parameter(Mandatory)] [string] $Root, [int] $Disks = 3)
    $env:LVM_SYSTEM_DIR = Join-Path $Root 'lvm'
    $null = New-Item -ItemType Directory (Join-Path $env:LVM_SYSTEM_DIR 'backup'), (Join-Path $env:LVM_SYSTEM_DIR 'archive'), /run/lock/lvm -Force
    @"
devices { filter = [ "a|^/dev/loop|", "r|.*|" ] obtain_device_list_from_udev = 0 external_device_info_source = "none" use_devicesfile = 0 scan_lvs = 0 }
global { event_activation = 0 use_lvmpolld = 0 }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 1 monitoring = 0 }
backup { backup_dir = "$env:LVM_SYSTEM_DIR/backup" archive_dir = "$env:LVM_SYSTEM_DIR/archive" }
"@ | Set-Content (Join-Path $env:LVM_SYSTEM_DIR 'lvm.conf')
    foreach ($index in 1..$Disks) {
        $file = Join-Path $Root "disk$index.img"
        Invoke-Tool truncate @('-s', '512M', $file) | Out-Null
        (Invoke-Tool losetup @('-f', '--show', $file)).Trim()
    }
}

function Mount-TestCgroup {
    # The cgroup file system, which the guest's init does not mount and systemd would: journald
    # refuses to run without it ("Failed to acquire cgroup root path"), runc too.
    if (Test-Path /sys/fs/cgroup/cgroup.controllers) { return }
    & (Resolve-Tool mount) -t cgroup2 none /sys/fs/cgroup
    if ($LASTEXITCODE -ne 0) { throw 'cannot mount cgroup2 on /sys/fs/cgroup' }
}

function Assert-HandedOverPool {
    # What the module does with a pool a container runtime drives: shows the runtime, reports its
    # thin ids as the runtime's (not problems), repairs nothing, refuses a change of thin ids.
    param([Parameter(Mandatory)] [string] $Pool, [Parameter(Mandatory)] [string] $StateRoot, [Parameter(Mandatory)] [string] $Runtime)
    $status = Get-PoolStatus $Pool -StateRoot $StateRoot
    Write-Host ($status | Format-List HandedTo, TransactionId, ThinVolumeCount, DataSpaceUsed | Out-String)
    $status.HandedTo | Should -Be $Runtime
    $problems = @(Test-ThinPool $Pool -StateRoot $StateRoot)
    Write-Host ($problems | Format-Table Kind, ThinId, Description -AutoSize -Wrap | Out-String -Width 200)
    $problems.Count | Should -BeGreaterThan 0
    $problems.Kind | Sort-Object -Unique | Should -Be 'RuntimeThinId'
    @(Repair-ThinPool $Pool -StateRoot $StateRoot -Confirm:$false | Where-Object Done).Count | Should -Be 0
    { New-ThinVolume -Pool $Pool -Name mine -Size 64MB -StateRoot $StateRoot -ErrorAction Stop } | Should -Throw -ErrorId 'PoolHandedOver,*'
    $status
}

function Clear-TestLvm {
    # Removes the volume groups and their disks that Initialize-TestLvm gave.
    param([string[]] $VolumeGroup, [string[]] $Disk)
    foreach ($vg in $VolumeGroup) { Invoke-Tool vgremove @('-q', '-f', $vg) -AllowFailure | Out-Null }
    foreach ($device in $Disk) {
        Invoke-Tool pvremove @('-q', '-y', $device) -AllowFailure | Out-Null
        Invoke-Tool losetup @('-d', $device) -AllowFailure | Out-Null
    }
    Remove-Item Env:LVM_SYSTEM_DIR -ErrorAction SilentlyContinue
}

Export-ModuleMember -Function Assert-HandedOverPool, Initialize-TestLvm, Clear-TestLvm, Mount-TestCgroup, Resolve-Tool, Select-MatrixCase, Get-SystemState, Set-NeedsCheckFlag, Write-Pattern, Get-DeviceHash, Assert-KernelLane, Test-ThinMetadata, New-TestStateRoot, Invoke-Tool, Assert-CleanMetadata, Get-DmTable, Get-DmStatus, Get-LoopBackingFiles
