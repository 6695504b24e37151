# What differs between the distributions the module runs on, tried for real in the guest (both
# lanes: Debian 12 and Debian 13): libdevmapper found under the upstream soname RHEL, Fedora,
# SUSE and Arch ship, and the advice a missing library or program gives on each family.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
    # Debian's libdevmapper file, as the dynamic loader finds it (merged /usr: /lib is usr/lib).
    $script:debianLib = (Invoke-Tool readlink @('-e', '/lib/x86_64-linux-gnu/libdevmapper.so.1.02.1')).Trim()
    $script:rhelRelease = Join-Path $TestDrive 'os-release-rhel'
    Set-Content $rhelRelease "NAME=`"Red Hat Enterprise Linux`"`nID=`"rhel`"`nID_LIKE=`"fedora`"`nVERSION_ID=`"9.4`""

    function Invoke-HiddenDebianSoname {
        # Runs a pwsh script in a mount namespace where Debian's libdevmapper file reads as empty
        # (/dev/null bound over it) and the folder -Library (or nothing) is the loader's first
        # stop: what a RHEL-family host looks like to the module. Its output comes back as JSON.
        param([string] $Library, [Parameter(Mandatory)] [string] $Script)
        $file = Join-Path $TestDrive ("hidden-{0}.ps1" -f [guid]::NewGuid().ToString('N').Substring(0, 6))
        Set-Content $file "Import-Module '$env:DMPS_MODULE_MANIFEST'`n$Script"
        # A fixed script; the paths are its arguments.
        $hide = 'mount --bind /dev/null "$1" && export LD_LIBRARY_PATH="$2" && shift 2 && exec "$@"'
        $output = & (Resolve-Tool unshare) --mount --propagation private (Resolve-Tool bash) -c $hide hide $debianLib "$Library" `
            (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File $file 2>&1 | Out-String
        if ($LASTEXITCODE -ne 0) { throw "the hidden-soname pwsh exited with ${LASTEXITCODE}: $output" }
        $output | ConvertFrom-Json
    }
}

Describe 'libdevmapper under every family''s soname' -Tag Kernel {
    BeforeEach { $root = New-TestStateRoot }
    AfterEach { Assert-CleanMetadata -StateRoot $root }

    It 'runs a pool, a volume and a snapshot when only libdevmapper.so.1.02 (RHEL''s and Fedora''s name) can be found' {
        $folder = Join-Path $TestDrive 'upstream'
        $null = New-Item -ItemType Directory -Force $folder
        Copy-Item $debianLib (Join-Path $folder 'libdevmapper.so.1.02')
        $result = Invoke-HiddenDebianSoname -Library $folder -Script @"
`$h = [IntPtr]::Zero
`$debianLoads = [Runtime.InteropServices.NativeLibrary]::TryLoad('libdevmapper.so.1.02.1', [ref] `$h)
`$pool = New-ThinPool -Name rhel -DataSize 256MB -MetadataSize 8MB -StateRoot '$root'
`$volume = `$pool | New-ThinVolume -Name base -Size 32MB
`$snapshot = `$volume | New-ThinSnapshot -Name snap
`$mapped = @(Get-Content /proc/`$PID/maps | Where-Object { `$_ -match 'libdevmapper' } | ForEach-Object { (`$_ -split '\s+')[-1] } | Sort-Object -Unique)
[pscustomobject]@{ DebianLoads = `$debianLoads; Mapped = `$mapped; Pool = `$pool.Name; Volumes = @(Get-ThinVolume -Pool rhel -StateRoot '$root' | ForEach-Object Name) } | ConvertTo-Json -Compress
"@
        $result.DebianLoads | Should -BeFalse   # Debian's name really was hidden
        $result.Mapped | Should -Be @((Join-Path $folder 'libdevmapper.so.1.02'))
        $result.Volumes | Sort-Object | Should -Be @('base', 'snap')
        # The devices are the kernel's, seen from outside the namespace too.
        (Get-DmTable 'rhel-snap') | Should -Match ' thin '
        (Get-PoolStatus rhel -StateRoot $root).Health | Should -Be 'Ok'
    }

    # A pwsh start of its own (~15 s under emulation) for what a host unit test also checks: FullOnly.
    It 'names the package of the host''s own family when no soname loads' -Tag FullOnly {
        $result = Invoke-HiddenDebianSoname -Library '' -Script @"
`$messages = foreach (`$release in '', '$rhelRelease') {
    `$env:DMPS_OS_RELEASE = `$release
    try { `$null = New-ThinPool -Name none -DataSize 64MB -StateRoot '$root' -ErrorAction Stop; 'created' }
    catch { `$_.FullyQualifiedErrorId + ' | ' + `$_.Exception.Message }
}
ConvertTo-Json -Compress @(`$messages)
"@
        $result[0] | Should -Match 'tried libdevmapper\.so\.1\.02\.1, libdevmapper\.so\.1\.02, libdevmapper\.so\.1\.03, libdevmapper\.so\)'
        $result[0] | Should -Match 'Debian/Ubuntu: apt-get install libdevmapper1\.02\.1'
        $result[1] | Should -Match 'RHEL/Fedora: dnf install device-mapper-libs'
        @(Get-ThinPool -StateRoot $root).Count | Should -Be 0
    }
}

Describe 'A missing helper program names its package' -Tag Kernel {
    BeforeEach {
        $root = New-TestStateRoot
        $null = New-ThinPool -Name tools -DataSize 256MB -MetadataSize 8MB -StateRoot $root
        $null = New-ThinVolume -Pool tools -Name base -Size 16MB -StateRoot $root
    }
    AfterEach { Assert-CleanMetadata -StateRoot $root }

    It 'gives ToolMissing with thin_ls''s package, Debian''s or RHEL''s by os-release, to a PATH without sbin' {
        # What a new user meets through sudo or a service with a PATH of /usr/bin only: no thin_ls.
        $path = $env:PATH
        try {
            $env:PATH = '/usr/bin'
            $debian = { Get-ThinVolume -Pool tools -Usage -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'ToolMissing*' -PassThru
            $debian.Exception.Message | Should -Match "'thin_ls' could not be started"
            $debian.Exception.Message | Should -Match 'Install it \(Debian/Ubuntu: apt-get install thin-provisioning-tools\)'
            $debian.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $env:DMPS_OS_RELEASE = $rhelRelease
            $rhel = { Get-ThinVolume -Pool tools -Usage -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'ToolMissing*' -PassThru
            $rhel.Exception.Message | Should -Match 'Install it \(RHEL/Fedora: dnf install device-mapper-persistent-data\)'
        }
        finally {
            $env:PATH = $path
            Remove-Item Env:DMPS_OS_RELEASE -ErrorAction SilentlyContinue
        }
        @(Get-ThinVolume -Pool tools -Usage -StateRoot $root).Count | Should -Be 1   # PATH back: thin_ls found
    }
}
