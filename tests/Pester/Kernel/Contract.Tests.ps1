# The PowerShell contract against the real kernel (guest lane only): -WhatIf changes nothing and
# prints the plan, -Verbose shows each table, message and device, progress on bulk work, tab
# completion from the registry, and errors with ids, categories and targets.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
}

Describe 'Cmdlets against a real pool' -Tag Kernel {
    BeforeAll {
        $root = New-TestStateRoot
        $pool = New-ThinPool -Name web -DataSize 2GB -MetadataSize 32MB -StateRoot $root
        $base = $pool | New-ThinVolume -Name base -Size 256MB
        $null = $base | New-ThinSnapshot -Name layer1
        $null = $pool | New-ThinVolume -Name idle -Size 64MB -Inactive
        $null = New-ThinPool -Name cold -DataSize 1GB -MetadataSize 16MB -StateRoot $root | Disable-ThinPool
    }
    AfterAll { Assert-CleanMetadata -StateRoot $root }

    It '-WhatIf on every change prints its plan and changes nothing' {
        $commands = [ordered]@{
            'New-ThinPool'       = "New-ThinPool -Name other -DataSize 1GB -MetadataSize 16MB"
            'Resize-ThinPool'    = "Resize-ThinPool web -DataSize 4GB -MetadataSize 64MB"
            'Disable-ThinPool'   = "Disable-ThinPool web -DeactivateVolumes"
            'Enable-ThinPool'    = "Enable-ThinPool cold"
            'Remove-ThinPool'    = "Remove-ThinPool web -DeactivateVolumes -DeleteBackingFiles -Force"
            'New-ThinVolume'     = "New-ThinVolume -Pool web -Name v2 -Size 128MB -FileSystem ext4"
            'New-ThinSnapshot'   = "New-ThinSnapshot -Pool web -Origin base -Name s1, s2"
            'Enable-ThinVolume'  = "Enable-ThinVolume web idle"
            'Disable-ThinVolume' = "Disable-ThinVolume web layer1"
            'Rename-ThinVolume'  = "Rename-ThinVolume web layer1 -NewName renamed"
            'Resize-ThinVolume'  = "Resize-ThinVolume web base -Size 512MB"
            'Remove-ThinVolume'  = "Remove-ThinVolume web layer1 -Force"
            'Export-ThinPool'    = "Export-ThinPool web -Path '$root/export'"
            'Set-ThinPool'       = "Set-ThinPool web -NoSpacePolicy Error -AutoextendThreshold 80"
        }
        # -WhatIf writes to the host: one child pwsh runs them all and marks each.
        $script = "`$ErrorActionPreference = 'Stop'; Import-Module '$env:DMPS_MODULE_MANIFEST'; `$env:DMPS_STATE_ROOT = '$root'`n"
        foreach ($name in $commands.Keys) { $script += "'=== $name'; $($commands[$name]) -WhatIf`n" }
        $before = Get-SystemState $root
        $output = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $script 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        Get-SystemState $root | Should -BeExactly $before
        $sections = @{}
        foreach ($part in $output -split '=== ' | Where-Object { $_.Trim() }) {
            $name, $text = $part -split "`n", 2
            $sections[$name.Trim()] = $text
        }
        $expected = @{
            'New-ThinPool'       = 'load table: 0 2097152 thin-pool'
            'Resize-ThinPool'    = 'load table: 0 8388608 thin-pool'
            'Disable-ThinPool'   = 'remove device /dev/mapper/web'
            'Enable-ThinPool'    = 'thin-pool'
            'Remove-ThinPool'    = 'delete'
            'New-ThinVolume'     = 'create_thin'
            'New-ThinSnapshot'   = 'create_snap'
            'Enable-ThinVolume'  = '/dev/mapper/web-idle'
            'Disable-ThinVolume' = '/dev/mapper/web-layer1'
            'Rename-ThinVolume'  = 'web-renamed'
            'Resize-ThinVolume'  = '0 1048576 thin'
            'Remove-ThinVolume'  = 'delete'
            'Export-ThinPool'    = 'reserve_metadata_snap'
            'Set-ThinPool'       = 'no-space behaviour: Queue -> Error'
        }
        foreach ($name in $commands.Keys) {
            $sections[$name] | Should -Match 'What if:' -Because "$name -WhatIf should print its plan: $output"
            $sections[$name] | Should -Match ([regex]::Escape($expected[$name])) -Because "$name's plan: $($sections[$name])"
        }
    }

    It '-Verbose shows each table loaded, message sent and device created or removed' {
        $verbose = @(New-ThinVolume -Pool web -Name verbose -Size 64MB -StateRoot $root -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message
        ($verbose -match '^message /dev/mapper/web 0 set_transaction_id \d+ \d+$') | Should -Not -BeNullOrEmpty
        ($verbose -match '^message /dev/mapper/web 0 create_thin \d+$') | Should -Not -BeNullOrEmpty
        ($verbose -match '^create device /dev/mapper/web-verbose uuid DMPS-') | Should -Not -BeNullOrEmpty
        ($verbose -match '^load table: 0 131072 thin \d+:\d+ \d+$') | Should -Not -BeNullOrEmpty
        $verbose = @(Remove-ThinVolume web verbose -Force -StateRoot $root -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message
        $verbose | Should -Contain 'remove device /dev/mapper/web-verbose'
        ($verbose -match '^message /dev/mapper/web 0 delete \d+$') | Should -Not -BeNullOrEmpty
    }

    It 'writes progress for bulk snapshots and for piped removal' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$env:DMPS_MODULE_MANIFEST'; New-ThinSnapshot -Pool web -Origin base -Name p1, p2, p3 -StateRoot '$root' | Remove-ThinVolume -Force")
            $null = $ps.Invoke()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $activities = @($ps.Streams.Progress.Activity | Select-Object -Unique)
            $activities | Should -Contain "Creating 3 thin devices in pool 'web'"
            $activities | Should -Contain "Activating 3 thin devices in pool 'web'"
            $activities | Should -Contain 'Removing thin volumes'
            @($ps.Streams.Progress | Where-Object RecordType -eq 'Completed').Count | Should -BeGreaterOrEqual 3
        }
        finally { $ps.Dispose() }
        (Get-ThinVolume -Pool web -Name 'p*' -StateRoot $root) | Should -BeNullOrEmpty
    }

    It 'completes pool names, volume names and origins from the registry' {
        $complete = {
            param([string] $Line)
            $line = "$Line"
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        }
        & $complete "Get-PoolStatus -StateRoot $root -Name w" | Should -Be @('web')
        & $complete "Get-ThinVolume -StateRoot $root -Pool c" | Should -Be @('cold')
        & $complete "Get-ThinVolume -StateRoot $root -Pool web -Name l" | Should -Be @('layer1')
        & $complete "New-ThinSnapshot -StateRoot $root -Pool web -Name x -Origin b" | Should -Be @('base')
        & $complete "Remove-ThinVolume -StateRoot $root -Pool web -Name i" | Should -Be @('idle')
    }

    It 'reports <Case> as <Id> (<Category>) with a target and a message' -ForEach @(
        @{ Case = 'a missing pool'; Id = 'PoolNotFound'; Category = 'ObjectNotFound'; Target = 'nope'; Command = { New-ThinVolume -Pool nope -Name v -Size 1GB -StateRoot $root } }
        @{ Case = 'a missing volume'; Id = 'VolumeNotFound'; Category = 'ObjectNotFound'; Target = 'nope'; Command = { New-ThinSnapshot -Pool web -Origin nope -Name s -StateRoot $root } }
        @{ Case = 'a name taken'; Id = 'NameTaken'; Category = 'ResourceExists'; Target = 'layer1'; Command = { New-ThinVolume -Pool web -Name layer1 -Size 1GB -StateRoot $root } }
        @{ Case = 'a shrink'; Id = 'ShrinkNotSupported'; Category = 'InvalidArgument'; Target = 'web'; Command = { Resize-ThinPool web -DataSize 1GB -StateRoot $root } }
        @{ Case = 'an inactive pool'; Id = 'PoolInactive'; Category = 'InvalidOperation'; Target = 'cold'; Command = { New-ThinVolume -Pool cold -Name v -Size 1GB -StateRoot $root } }
        @{ Case = 'active volumes'; Id = 'VolumesActive'; Category = 'ResourceBusy'; Target = 'web'; Command = { Disable-ThinPool web -StateRoot $root } }
        @{ Case = 'an open device'; Id = 'DeviceInUse'; Category = 'ResourceBusy'; Target = $null; Command = {
                $stream = [IO.File]::Open('/dev/mapper/web-layer1', 'Open', 'Read', 'ReadWrite')
                try { Disable-ThinVolume web layer1 -StateRoot $root } finally { $stream.Dispose() } } }
    ) {
        $before = Get-SystemState $root
        $caught = $null
        try { $ErrorActionPreference = 'Stop'; & $Command } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $caught.CategoryInfo.Category | Should -Be $Category
        $caught.TargetObject | Should -Not -BeNullOrEmpty
        if ($Target) { "$($caught.TargetObject)" | Should -Be $Target }
        $caught.Exception.Message | Should -Not -BeNullOrEmpty
        Get-SystemState $root | Should -BeExactly $before
    }

    It 'draws the pool as a tree, with snapshots under their origins' {
        $rows = Get-ThinPool web -Tree -StateRoot $root
        $rows[0].Tree | Should -Be 'web'
        $rows.Tree | Should -Contain '├─base'
        $rows.Tree | Should -Contain '│ └─layer1'
        ($rows | Where-Object Name -eq 'data').Path | Should -Match '^/dev/loop\d+ \('
        $text = $rows | Format-Table | Out-String -Width 200
        $text | Should -Match 'MAJ:MIN'
    }
}
