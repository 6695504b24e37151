# containerd as a client of a pool the module made (guest lane only): Debian's containerd, its
# built-in devmapper snapshotter with pool_name = the pool's device-mapper name, imports a local
# OCI image (pulls nothing) and runs a container through `ctr --snapshotter devmapper`; the
# module then reports containerd's thin devices as containerd's, and leaves them alone.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
    foreach ($program in '/usr/bin/containerd', '/usr/bin/ctr') {
        if (-not (Test-Path $program)) { throw "$program is missing: tools/setup.sh installs containerd" }
    }
    Mount-TestCgroup   # runc needs it

    function Add-Blob([string] $Layout, [byte[]] $Bytes) {
        # An OCI blob: stored under its SHA-256, described by digest and size.
        $hex = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant()
        [IO.File]::WriteAllBytes((Join-Path $Layout "blobs/sha256/$hex"), $Bytes)
        @{ digest = "sha256:$hex"; size = $Bytes.Length }
    }

    function New-OciImage([string] $Folder, [string] $Reference) {
        # An OCI image layout as a tar (what `ctr images import` reads): one uncompressed layer
        # holding Debian's static busybox, its config and manifest, and an index naming it.
        $rootfs = Join-Path $Folder 'rootfs'
        New-Item -ItemType Directory -Force (Join-Path $rootfs 'bin') | Out-Null
        Copy-Item /bin/busybox (Join-Path $rootfs 'bin/busybox')
        foreach ($name in 'sh', 'echo', 'cat', 'sleep') { New-Item -ItemType SymbolicLink -Path (Join-Path $rootfs "bin/$name") -Target busybox | Out-Null }
        $layout = Join-Path $Folder 'oci'
        New-Item -ItemType Directory -Force (Join-Path $layout 'blobs/sha256') | Out-Null
        $layerTar = Join-Path $Folder 'layer.tar'
        & (Resolve-Tool tar) -C $rootfs -cf $layerTar .
        $layer = Add-Blob $layout ([IO.File]::ReadAllBytes($layerTar))
        $config = Add-Blob $layout ([Text.Encoding]::UTF8.GetBytes((@{
            architecture = 'amd64'; os = 'linux'
            config = @{ Cmd = @('/bin/sh') }
            rootfs = @{ type = 'layers'; diff_ids = @($layer.digest) }
        } | ConvertTo-Json -Depth 5 -Compress)))
        $manifest = Add-Blob $layout ([Text.Encoding]::UTF8.GetBytes((@{
            schemaVersion = 2; mediaType = 'application/vnd.oci.image.manifest.v1+json'
            config = @{ mediaType = 'application/vnd.oci.image.config.v1+json' } + $config
            layers = @(@{ mediaType = 'application/vnd.oci.image.layer.v1.tar' } + $layer)
        } | ConvertTo-Json -Depth 5 -Compress)))
        Set-Content (Join-Path $layout 'oci-layout') '{"imageLayoutVersion":"1.0.0"}' -NoNewline
        Set-Content (Join-Path $layout 'index.json') (@{
            schemaVersion = 2
            manifests = @(@{ mediaType = 'application/vnd.oci.image.manifest.v1+json'; annotations = @{ 'io.containerd.image.name' = $Reference; 'org.opencontainers.image.ref.name' = '1' } } + $manifest)
        } | ConvertTo-Json -Depth 5 -Compress) -NoNewline
        $tar = Join-Path $Folder 'image.tar'
        & (Resolve-Tool tar) -C $layout -cf $tar oci-layout index.json blobs
        $tar
    }

    function Start-Containerd([string] $Pool, [string] $Folder) {
        # containerd's own state under the test's folder; the devmapper snapshotter on the pool.
        $config = Join-Path $Folder 'config.toml'
        Set-Content $config @"
version = 2
root = "$Folder/root"
state = "$Folder/state"
[grpc]
  address = "$Folder/containerd.sock"
[plugins."io.containerd.snapshotter.v1.devmapper"]
  pool_name = "$Pool"
  root_path = "$Folder/devmapper"
  base_image_size = "64MB"
  discard_blocks = true
"@
        # No udev in the guest: the snapshotter's dmsetup then makes /dev/mapper nodes only when told to.
        $env:DM_DISABLE_UDEV = '1'
        try { $process = Start-Process /usr/bin/containerd -ArgumentList '--config', $config -RedirectStandardOutput "$Folder/containerd.out" -RedirectStandardError "$Folder/containerd.log" -PassThru }
        finally { Remove-Item Env:DM_DISABLE_UDEV }
        $script:ctrAddress = "$Folder/containerd.sock"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while ($true) {
            $plugins = & /usr/bin/ctr --address $script:ctrAddress plugins ls 2>&1 | Out-String
            if ($LASTEXITCODE -eq 0 -and $plugins -match 'io\.containerd\.snapshotter\.v1\s+devmapper\s+\S+\s+ok') { break }
            if ($process.HasExited -or $clock.Elapsed.TotalSeconds -gt 180) { throw "containerd's devmapper snapshotter did not come up: $plugins $(Get-Content -Raw "$Folder/containerd.log" | Select-Object -Last 40)" }
            Start-Sleep -Milliseconds 500
        }
        Write-Host "containerd answered after $([int]$clock.Elapsed.TotalSeconds) s"
        $process
    }

    function Invoke-Ctr {
        $output = & /usr/bin/ctr --address $script:ctrAddress @args 2>&1 | Out-String
        if ($LASTEXITCODE -ne 0) { throw "ctr $args failed ($LASTEXITCODE): $output" }
        $output
    }
}

Describe 'containerd on a pool from New-ThinPool' -Tag Kernel {
    BeforeAll {
        $root = New-TestStateRoot
        $folder = Join-Path $root 'containerd'
        New-Item -ItemType Directory $folder | Out-Null
        $reference = 'docker.io/local/busybox:1'
        $image = New-OciImage $folder $reference
    }
    AfterAll {
        if (Get-ThinPool ctrd -StateRoot $root -ErrorAction SilentlyContinue) { Disable-ThinPool ctrd -DeactivateVolumes -StateRoot $root }
        Assert-CleanMetadata -StateRoot $root
    }

    It 'imports a local image and runs a container with the devmapper snapshotter; the module reports and leaves its devices' -Tag FullOnly {
        $null = New-ThinPool -Name ctrd -DataSize 1GB -MetadataSize 64MB -StateRoot $root
        $daemon = Start-Containerd ctrd $folder
        try {
            Invoke-Ctr images import --snapshotter devmapper $image | Out-Null
            (Invoke-Ctr images ls) | Should -Match ([regex]::Escape($reference))
            (Invoke-Ctr run --rm --no-pivot --snapshotter devmapper $reference hello /bin/echo hello-from-containerd).Trim() | Should -Be 'hello-from-containerd'
            # An active snapshot of the image's layer keeps a device of containerd's active, as a running container does.
            $layer = ((Invoke-Ctr snapshots --snapshotter devmapper ls) -split "`n" | Where-Object { $_ -match '\sCommitted\s*$' } | Select-Object -First 1) -split '\s+' | Select-Object -First 1
            $layer | Should -Match '^sha256:'
            Invoke-Ctr snapshots --snapshotter devmapper prepare active-one $layer | Out-Null
            Write-Host (& (Resolve-Tool dmsetup) ls | Out-String)

            $null = Assert-HandedOverPool ctrd $root Containerd   # seen by its active device ctrd-snap-N
            Set-ThinPool ctrd -HandedTo Containerd -StateRoot $root
            Invoke-Ctr snapshots --snapshotter devmapper rm active-one | Out-Null
        }
        finally {
            Stop-Process -Id $daemon.Id -ErrorAction SilentlyContinue
            $daemon.WaitForExit(60000) | Out-Null
        }
        (Get-PoolStatus ctrd -StateRoot $root).HandedTo | Should -Be 'Containerd'
        @(Test-ThinPool ctrd -StateRoot $root).Kind | Sort-Object -Unique | Should -Be 'RuntimeThinId'
        # containerd's devices stay as it left them: nothing adopted, nothing deleted.
        Get-ThinVolume -Pool ctrd -StateRoot $root | Should -BeNullOrEmpty
    }
}
