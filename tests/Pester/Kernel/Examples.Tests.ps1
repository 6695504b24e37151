# Every example in docs/help runs, as shipped, against the real kernel (guest lane only). Each
# runs in a fresh state root ($env:DMPS_STATE_ROOT, so the examples need no -StateRoot) that
# holds the pool the examples assume: web (10 GiB), with volume base and its snapshot layer1.
# Pool metadata passes thin_check afterwards, also for pools an example removed but kept.
# Examples that need a second host are listed as skipped (Remoting.Tests.ps1 covers them).
BeforeDiscovery {
    # The examples as shipped: the module's compiled help (what Get-Help -Examples shows, built
    # from docs/help; tests/Pester/Unit checks the two agree), read as XML. Parsing the markdown
    # here took most of the kernel suites' discovery in the guest.
    Import-Module (Join-Path $PSScriptRoot '../../../tools/help/HelpMarkdown.psm1') -Force
    $script:examples = foreach ($example in Read-MamlExample (Join-Path (Split-Path $env:DMPS_MODULE_MANIFEST) 'en-US/DmPowerShell.dll-Help.xml')) {
        @{ Command = $example.Command; Title = $example.Title; Code = $example.Code }
    }
}

BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    # As installed: the published module folder is on the module path, so thread jobs load it too.
    $env:PSModulePath = (Split-Path (Split-Path (Split-Path $env:DMPS_MODULE_MANIFEST))) + [IO.Path]::PathSeparator + $env:PSModulePath
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
}

Describe 'Help examples of <Command>' -Tag Kernel -ForEach ($script:examples | Group-Object { $_.Command } | ForEach-Object { @{ Command = $_.Name; Examples = $_.Group } }) {
    BeforeEach {
        $root = New-TestStateRoot
        $previousRoot = $env:DMPS_STATE_ROOT
        $env:DMPS_STATE_ROOT = $root
        New-ThinPool -Name web -DataSize 10GB -MetadataSize 64MB | New-ThinVolume -Name base -Size 1GB | New-ThinSnapshot -Name layer1 | Out-Null
    }
    AfterEach {
        $env:DMPS_STATE_ROOT = $previousRoot
        # Pools an example removed without deleting their files: check what they left.
        $recorded = @(Get-ThinPool -StateRoot $root).Name
        $left = @(Get-ChildItem (Join-Path $root 'pools') -Directory -ErrorAction SilentlyContinue | Where-Object { $_.Name -notin $recorded })
        $problems = foreach ($folder in $left) {
            $metadata = Join-Path $folder.FullName 'metadata'
            if (Test-Path $metadata) { Test-ThinMetadata $metadata }
        }
        Assert-CleanMetadata -StateRoot $root
        $problems | Should -BeNullOrEmpty
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
