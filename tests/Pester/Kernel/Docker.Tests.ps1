# Docker as a client of a pool the module made (guest lane only): Debian's docker.io, whose
# devicemapper driver takes a thin pool with dm.thinpooldev, runs a container from an image
# imported from a local tar; the module then reports Docker's devices truthfully, as Docker's,
# and refuses to change the pool's thin ids (moby#15629: Docker keeps its own transaction id).
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
    $script:dockerd = '/usr/sbin/dockerd'
    $script:docker = '/usr/bin/docker'   # Debian's client, not another one earlier on PATH
    foreach ($program in $script:dockerd, $script:docker) {
        if (-not (Test-Path $program)) { throw "$program is missing: tools/setup.sh installs docker.io" }
    }
    # runc needs the cgroup file system, which the guest's init does not mount.
    Mount-TestCgroup   # runc needs it

    # dockerd writes its key under /etc/docker, read-only in the guest (the host's root).
    if (-not (Test-Path /etc/docker)) { throw '/etc/docker is missing: tools/setup.sh installs docker.io' }
    & (Resolve-Tool mount) -t tmpfs -o mode=0700 tmpfs /etc/docker
    if ($LASTEXITCODE -ne 0) { throw 'cannot mount a tmpfs on /etc/docker' }

    function New-BusyboxImage([string] $Folder) {
        # An image as a tar of a root file system: Debian's static busybox and a few of its names.
        $rootfs = Join-Path $Folder 'rootfs'
        New-Item -ItemType Directory -Force (Join-Path $rootfs 'bin') | Out-Null
        Copy-Item /bin/busybox (Join-Path $rootfs 'bin/busybox')
        foreach ($name in 'sh', 'echo', 'cat', 'sleep', 'ls') { New-Item -ItemType SymbolicLink -Path (Join-Path $rootfs "bin/$name") -Target busybox | Out-Null }
        $tar = Join-Path $Folder 'busybox.tar'
        & (Resolve-Tool tar) -C $rootfs -cf $tar .
        $tar
    }

    function Start-Dockerd([string] $Pool, [string] $Folder) {
        # As the guide's dm.thinpooldev setup, with its state under the test's folder; no network
        # (no bridge, no iptables) and DOCKER_RAMDISK, since the guest's root is a chroot that
        # pivot_root cannot leave.
        $socket = Join-Path $Folder 'docker.sock'
        $arguments = @("--data-root=$Folder/data", "--exec-root=$Folder/exec", "--pidfile=$Folder/docker.pid", "--host=unix://$socket",
            '--storage-driver=devicemapper', "--storage-opt=dm.thinpooldev=/dev/mapper/$Pool", '--storage-opt=dm.override_udev_sync_check=true',
            '--bridge=none', '--iptables=false', '--ip-masq=false')
        $env:DOCKER_RAMDISK = 'true'
        try { $process = Start-Process $script:dockerd -ArgumentList $arguments -RedirectStandardOutput "$Folder/dockerd.out" -RedirectStandardError "$Folder/dockerd.log" -PassThru }
        finally { Remove-Item Env:DOCKER_RAMDISK }
        $script:dockerHost = "unix://$socket"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while ($true) {
            & $script:docker --host $script:dockerHost version 2>&1 | Out-Null
            if ($LASTEXITCODE -eq 0) { break }
            if ($process.HasExited -or $clock.Elapsed.TotalSeconds -gt 180) { throw "dockerd did not start: $(Get-Content -Raw "$Folder/dockerd.log")" }
            Start-Sleep -Milliseconds 500
        }
        Write-Host "dockerd answered after $([int]$clock.Elapsed.TotalSeconds) s"
        $process
    }

    function Invoke-Docker {
        $output = & $script:docker --host $script:dockerHost @args 2>&1 | Out-String
        if ($LASTEXITCODE -ne 0) { throw "docker $args failed ($LASTEXITCODE): $output" }
        $output
    }

    function Stop-Dockerd($Process) {
        Stop-Process -Id $Process.Id -ErrorAction SilentlyContinue   # SIGTERM: dockerd deactivates its devices
        if (-not $Process.WaitForExit(120000)) { Stop-Process -Id $Process.Id -Force; throw 'dockerd did not stop within 120 s' }
    }
}

Describe 'Docker on a pool from New-ThinPool' -Tag Kernel {
    BeforeAll {
        $root = New-TestStateRoot
        $folder = Join-Path $root 'docker'
        New-Item -ItemType Directory $folder | Out-Null
        $image = New-BusyboxImage $folder
    }
    AfterAll {
        if (Get-ThinPool dock -StateRoot $root -ErrorAction SilentlyContinue) { Disable-ThinPool dock -DeactivateVolumes -StateRoot $root }
        Assert-CleanMetadata -StateRoot $root
    }

    It 'runs a container on a loop-mode pool; the module reports Docker''s devices as Docker''s and leaves its thin ids alone' {
        $null = New-ThinPool -Name dock -DataSize 1GB -MetadataSize 64MB -StateRoot $root
        # Docker refuses a pool with used blocks or a transaction id: a new pool has neither.
        $daemon = Start-Dockerd dock $folder
        try {
            (Invoke-Docker info) | Should -Match 'Pool Name: dock'
            Invoke-Docker import $image local/busybox:1 | Out-Null
            (Invoke-Docker run --rm --network none local/busybox:1 /bin/echo hello-from-a-thin-pool).Trim() | Should -Be 'hello-from-a-thin-pool'
            Invoke-Docker run -d --name keep --network none local/busybox:1 /bin/sleep 600 | Out-Null

            # Seen by the running container's device; Docker moved the transaction id.
            (Assert-HandedOverPool dock $root Docker).TransactionId | Should -BeGreaterThan 0

            # Recorded, the handover holds when Docker's devices are all inactive.
            Set-ThinPool dock -HandedTo Docker -StateRoot $root
            Invoke-Docker rm -f keep | Out-Null
        }
        finally { Stop-Dockerd $daemon }
        $stopped = Get-PoolStatus dock -StateRoot $root
        $stopped.HandedTo | Should -Be 'Docker'
        @(Test-ThinPool dock -StateRoot $root).Kind | Sort-Object -Unique | Should -Be 'RuntimeThinId'
        { New-ThinVolume -Pool dock -Name mine -Size 64MB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'PoolHandedOver,*'
        (Get-PoolStatus dock -StateRoot $root).TransactionId | Should -Be $stopped.TransactionId   # the module moved nothing
    }

    It 'lets Docker start again on the pool as it left it: its bookkeeping is intact' -Tag FullOnly {
        $daemon = Start-Dockerd dock $folder
        try { (Invoke-Docker run --rm --network none local/busybox:1 /bin/echo again).Trim() | Should -Be 'again' }
        finally { Stop-Dockerd $daemon }
    }
}

Describe 'Docker on an LVM-mode pool from New-ThinPool' -Tag Kernel {
    BeforeAll {
        $root = New-TestStateRoot
        $disks = @(Initialize-TestLvm -Root $root -Disks 1)
        $folder = Join-Path $root 'docker'
        New-Item -ItemType Directory $folder | Out-Null
        $image = New-BusyboxImage $folder
    }
    AfterAll {
        Clear-TestLvm -VolumeGroup dmpsdock -Disk $disks
        Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue
    }

    It 'runs a container on the guide''s direct-lvm pool; the module reports Docker''s devices on LVM''s pool' -Tag FullOnly {
        $null = New-ThinPool -Name thinpool -VolumeGroup dmpsdock -PhysicalDevice $disks[0] -StateRoot $root
        # LVM's own device of the thin-pool target (vg-lv, or vg-lv-tpool once LVM has thin LVs on it).
        $device = (Get-PoolStatus thinpool -StateRoot $root).PoolName
        $daemon = Start-Dockerd $device $folder
        try {
            (Invoke-Docker info) | Should -Match "Pool Name: $([regex]::Escape($device))"
            Invoke-Docker import $image local/busybox:1 | Out-Null
            (Invoke-Docker run --rm --network none local/busybox:1 /bin/echo hello-from-lvm).Trim() | Should -Be 'hello-from-lvm'
            Invoke-Docker run -d --name keep --network none local/busybox:1 /bin/sleep 600 | Out-Null
            $status = Get-PoolStatus thinpool -StateRoot $root
            Write-Host ($status | Format-List Manager, HandedTo, TransactionId, ThinVolumeCount | Out-String)
            $status.Manager | Should -Be 'Lvm'
            $status.HandedTo | Should -Be 'Docker'
            $status.TransactionId | Should -BeGreaterThan 0
            Invoke-Docker rm -f keep | Out-Null
        }
        finally { Stop-Dockerd $daemon }
        # thin_check on the metadata, through LVM's read-only component activation.
        Disable-ThinPool thinpool -StateRoot $root
        Invoke-Tool lvchange @('-q', '-ay', '-y', 'dmpsdock/thinpool_tmeta') | Out-Null
        $check = Test-ThinMetadata /dev/mapper/dmpsdock-thinpool_tmeta
        Invoke-Tool lvchange @('-q', '-an', 'dmpsdock/thinpool_tmeta') | Out-Null
        $check | Should -BeNullOrEmpty
    }
}
