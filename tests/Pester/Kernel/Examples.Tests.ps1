# Every example in docs/help runs, as shipped, against the real kernel (guest lane only). Each
# runs in a state root of its own ($env:DMPS_STATE_ROOT, so the examples need no -StateRoot)
# that holds the pool the examples assume: web (10 GiB), with volume base and its snapshot
# layer1, as created (an example that changed nothing leaves it for the next). Pool metadata
# passes thin_check afterwards, also for pools an example removed but kept.
# Examples that need a second host are listed as skipped (Remoting.Tests.ps1 covers them).
BeforeDiscovery {
    # The examples as shipped: the module's compiled help (what Get-Help -Examples shows, built
    # from docs/help; tests/Pester/Unit checks the two agree), read as XML. Parsing the markdown
    # here took most of the kernel suites' discovery in the guest.
    Import-Module (Join-Path $PSScriptRoot '../../../tools/help/HelpMarkdown.psm1') -Force
    $script:examples = foreach ($example in Read-MamlExample (Join-Path (Split-Path $env:DMPS_MODULE_MANIFEST) 'en-US/DmPowerShell.dll-Help.xml')) {
        @{ Command = $example.Command; Title = $example.Title; Code = $example.Code }
    }
    $script:commands = $script:examples | Group-Object { $_.Command } | ForEach-Object { @{ Command = $_.Name; Examples = $_.Group } }
    # CI runs the examples of the README's first screen (the pipeline and the three other cmdlets
    # named there); -Task FullGuestTest runs every cmdlet's (all of them took 234 s of CI's guest).
    $script:sampled = 'New-ThinPool', 'New-ThinVolume', 'New-ThinSnapshot', 'Resize-ThinPool', 'Get-PoolStatus'
}

BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    # As installed: the published module folder is on the module path, so thread jobs load it too.
    $env:PSModulePath = (Split-Path (Split-Path (Split-Path $env:DMPS_MODULE_MANIFEST))) + [IO.Path]::PathSeparator + $env:PSModulePath
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
}

BeforeDiscovery {
    # One body for both Describes below.
    $script:body = {
        BeforeAll {
            $previousRoot = $env:DMPS_STATE_ROOT
            $script:root = $null
            $script:fresh = $null

            # Everything an example could change, as one string: the registry's files (the pools'
            # sparse files by size), every dm device's status (used blocks, transaction id), the
            # mounts and the loop devices. An example that leaves it as it was gets the same pool.
            function Get-FixtureState {
                $files = foreach ($file in [IO.Directory]::GetFiles($script:root, '*', [IO.SearchOption]::AllDirectories) | Sort-Object) {
                    $info = [IO.FileInfo]::new($file)
                    if ($info.LinkTarget) { "$file -> $($info.LinkTarget)" }
                    elseif ($info.Length -gt 1MB -or $info.Name -eq 'lock') { "$file $($info.Length)" }
                    else { "$file $([IO.File]::ReadAllText($file))" }
                }
                $mounts = [IO.File]::ReadAllText('/proc/self/mounts')
                (@($files) + (Invoke-Tool dmsetup @('status')) + $mounts + (Get-LoopBackingFiles)) -join "`n"
            }

            function Remove-Fixture {
                # Pools an example removed without deleting their files: check what they left.
                $recorded = @(Get-ThinPool -StateRoot $script:root).Name
                $left = @(Get-ChildItem (Join-Path $script:root 'pools') -Directory -ErrorAction SilentlyContinue | Where-Object { $_.Name -notin $recorded })
                $problems = foreach ($folder in $left) {
                    $metadata = Join-Path $folder.FullName 'metadata'
                    if (Test-Path $metadata) { Test-ThinMetadata $metadata }
                }
                Assert-CleanMetadata -StateRoot $script:root
                $script:root = $null
                $problems | Should -BeNullOrEmpty
            }
        }
        BeforeEach {
            # The pool the examples assume, made again only when the last example changed anything
            # (a fresh pool for each took a third of this file's time under TCG).
            if ($script:root -and (Get-FixtureState) -ne $script:fresh) { Remove-Fixture }
            if (-not $script:root) {
                $script:root = New-TestStateRoot
                $env:DMPS_STATE_ROOT = $script:root
                New-ThinPool -Name web -DataSize 10GB -MetadataSize 64MB | New-ThinVolume -Name base -Size 1GB | New-ThinSnapshot -Name layer1 | Out-Null
                $script:fresh = Get-FixtureState
            }
        }
        AfterAll {
            if ($script:root) { Remove-Fixture }
            $env:DMPS_STATE_ROOT = $previousRoot
        }

        # An example that opens a session to another host (Send-ThinVolume's) cannot run here as shipped;
        # Remoting.Tests.ps1 runs the same sends between two loopback sshd hosts.
        It '<_.Title>' -ForEach @($Examples | Where-Object { $_.Code -notmatch 'New-PSSession -HostName' }) {
            $ErrorActionPreference = 'Stop'
            $output = & ([scriptblock]::Create($_.Code)) | Out-String -Width 200
            Write-Host $output
        }

        It '<_.Title> (needs a second host)' -ForEach @($Examples | Where-Object { $_.Code -match 'New-PSSession -HostName' }) -Skip { }
    }
}

Describe 'Help examples of <Command>' -Tag Kernel -ForEach @($script:commands | Where-Object { $_.Command -in $script:sampled }) $script:body
Describe 'Help examples of <Command>' -Tag Kernel, FullOnly -ForEach @($script:commands | Where-Object { $_.Command -notin $script:sampled }) $script:body
