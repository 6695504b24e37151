# Host-side contract tests: no kernel needed, and none of these may touch device-mapper.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    $script:root = Join-Path ([IO.Path]::GetTempPath()) "dmps-pester-unit-$PID"
    New-Item -ItemType Directory -Force $script:root | Out-Null
    $script:changers = 'New-ThinPool', 'Resize-ThinPool', 'Set-ThinPool', 'Remove-ThinPool', 'Enable-ThinPool', 'Disable-ThinPool', 'Repair-ThinPool', 'Export-ThinPool', 'Restore-ThinPool', 'Watch-ThinPool', 'Export-PoolMetric',
        'New-ThinVolume', 'New-ThinSnapshot', 'Enable-ThinVolume', 'Disable-ThinVolume', 'Rename-ThinVolume', 'Resize-ThinVolume', 'Remove-ThinVolume', 'Restore-ThinVolume', 'Export-ThinVolume', 'Import-ThinVolume', 'Send-ThinVolume'
}
AfterAll {
    Remove-Item -Recurse -Force $script:root -ErrorAction SilentlyContinue
}

Describe 'The module' {
    It 'exports the cmdlets the design names' {
        $names = (Get-Command -Module DmPowerShell).Name
        foreach ($name in @('Get-ThinPool', 'Get-PoolStatus', 'Get-ThinVolume', 'Compare-ThinVolume') + $script:changers) {
            $names | Should -Contain $name
        }
    }

    It 'ships the license its manifest names' {
        $folder = Split-Path $env:DMPS_MODULE_MANIFEST
        $manifest = Import-PowerShellDataFile $env:DMPS_MODULE_MANIFEST
        $manifest.PrivateData.PSData.LicenseUri | Should -Be 'https://opensource.org/licenses/MIT'
        (Get-Content -Raw (Join-Path $folder 'LICENSE')) | Should -Match '^MIT License'
        $manifest.Copyright | Should -Match 'MIT License'
    }

    It 'exports every cmdlet its assembly defines (the manifest lists them by name)' {
        $assembly = (Get-Command Get-ThinPool).ImplementingType.Assembly
        $defined = foreach ($type in $assembly.GetExportedTypes()) {
            $attribute = $type.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) | Select-Object -First 1
            if ($attribute) { "$($attribute.VerbName)-$($attribute.NounName)" }
        }
        @($defined | Sort-Object) | Should -Be @((Get-Command -Module DmPowerShell).Name | Sort-Object)
    }

    It 'uses approved verbs only' {
        $approved = (Get-Verb).Verb
        foreach ($command in Get-Command -Module DmPowerShell) {
            $approved | Should -Contain $command.Verb
        }
    }

    It 'declares an OutputType on every cmdlet' {
        foreach ($command in Get-Command -Module DmPowerShell) {
            $command.OutputType | Should -Not -BeNullOrEmpty -Because "$($command.Name) should declare what it returns"
        }
    }

    It 'supports ShouldProcess on every change, High impact on removal' {
        foreach ($name in $script:changers) {
            (Get-Command $name).Parameters.Keys | Should -Contain 'WhatIf'
        }
        foreach ($name in 'Remove-ThinPool', 'Remove-ThinVolume') {
            (Get-Command $name).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact |
                Should -Be 'High'
        }
    }

    It 'has -PassThru on every change that returns nothing by default' {
        foreach ($name in 'Enable-ThinPool', 'Disable-ThinPool', 'Remove-ThinPool', 'Enable-ThinVolume', 'Disable-ThinVolume', 'Rename-ThinVolume', 'Remove-ThinVolume') {
            (Get-Command $name).Parameters.Keys | Should -Contain 'PassThru' -Because "$name returns nothing without it"
        }
    }

    It 'completes pool, volume and origin names on every parameter that takes one' {
        foreach ($command in Get-Command -Module DmPowerShell) {
            foreach ($parameter in $command.Parameters.Values | Where-Object { $_.Name -in 'Pool', 'Origin' -or ($_.Name -eq 'Name' -and $command.Verb -notin 'New', 'Import') }) {
                $completer = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] }
                $completer | Should -Not -BeNullOrEmpty -Because "$($command.Name) -$($parameter.Name) should complete"
            }
        }
    }

    It 'states PowerShell 7.4 and Core in its manifest' {
        $manifest = Import-PowerShellDataFile $env:DMPS_MODULE_MANIFEST
        $manifest.PowerShellVersion | Should -Be '7.4'
        $manifest.CompatiblePSEditions | Should -Contain 'Core'
        $manifest.ProcessorArchitecture | Should -Be 'Amd64'
        $manifest.PrivateData.PSData.Tags | Should -Contain 'Linux'
    }
}

Describe 'Pipeline binding' {
    BeforeAll {
        $script:pool = [DmPowerShell.Pools.ThinPool]::new(); $script:pool.Name = 'piped'; $script:pool.StateRoot = Join-Path $script:root 'piped-root'
        $script:volume = [DmPowerShell.Volumes.ThinVolume]::new(); $script:volume.Name = 'vol'; $script:volume.Pool = 'piped'; $script:volume.StateRoot = $script:pool.StateRoot
    }

    It 'binds a piped <Object> to <Command> by value, with its state root' -ForEach @(
        @{ Object = 'pool'; Command = { $script:pool | New-ThinVolume -Name base -ErrorAction Stop } }
        @{ Object = 'pool'; Command = { $script:pool | Get-ThinVolume -ErrorAction Stop } }
        @{ Object = 'pool'; Command = { $script:pool | Resize-ThinPool -DataSize 2GB -ErrorAction Stop } }
        @{ Object = 'pool'; Command = { $script:pool | Remove-ThinPool -Force -ErrorAction Stop } }
        @{ Object = 'pool'; Command = { $script:pool | Enable-ThinPool -ErrorAction Stop } }
        @{ Object = 'volume'; Command = { $script:volume | New-ThinSnapshot -Name s1 -ErrorAction Stop } }
        @{ Object = 'volume'; Command = { $script:volume | Remove-ThinVolume -Force -ErrorAction Stop } }
        @{ Object = 'volume'; Command = { $script:volume | Resize-ThinVolume -Size 1GB -ErrorAction Stop } }
        @{ Object = 'volume'; Command = { $script:volume | Rename-ThinVolume -NewName v2 -ErrorAction Stop } }
    ) {
        # The pool does not exist: reaching the registry, and the right one, proves the binding.
        $caught = $null
        try { & $Command } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'PoolNotFound,*'
        $caught.Exception.Message | Should -Match ([regex]::Escape($script:pool.StateRoot))
    }
}

Describe 'Sizes' {
    It 'reads 10G, 10GB, 10GiB, 10gib, 10GB (a number) and 10737418240 as the same size' {
        # -WhatIf writes to the host, not to a stream: read it from a child pwsh.
        $command = "Import-Module '$env:DMPS_MODULE_MANIFEST'; foreach (`$size in '10G', '10GB', '10GiB', '10gib', 10GB, '10737418240') { New-ThinPool -Name sizes -DataSize `$size -MetadataSize 64MB -StateRoot '$script:root' -WhatIf }"
        $out = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $command | Out-String
        ([regex]::Matches($out, 'load table: 0 20971520 thin-pool')).Count | Should -Be 6 -Because $out
    }

    It 'refuses a size that is not a size' {
        { New-ThinPool -Name sizes -DataSize 'ten gigs' -StateRoot $script:root -WhatIf } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,DmPowerShell.Commands.Cmdlets.NewThinPoolCommand'
    }
}

Describe 'Bad input is refused with a typed error before anything is created' {
    It '<Case>' -ForEach @(
        @{ Case = 'empty name'; Arguments = @{ Name = '' }; Id = 'ParameterArgumentValidationErrorEmptyStringNotAllowed' }
        @{ Case = 'name with a slash'; Arguments = @{ Name = 'a/b' }; Id = 'InvalidName'; Category = 'InvalidArgument' }
        @{ Case = 'name with a space'; Arguments = @{ Name = 'a b' }; Id = 'InvalidName'; Category = 'InvalidArgument' }
        @{ Case = 'name with a control character'; Arguments = @{ Name = "a`tb" }; Id = 'InvalidName'; Category = 'InvalidArgument' }
        @{ Case = 'name too long for dm'; Arguments = @{ Name = 'p' * 128 }; Id = 'InvalidName'; Category = 'InvalidArgument' }
        @{ Case = 'zero data size'; Arguments = @{ Name = 'p'; DataSize = 0 }; Id = 'InvalidSize'; Category = 'InvalidArgument' }
        @{ Case = 'negative data size'; Arguments = @{ Name = 'p'; DataSize = -1GB }; Id = 'InvalidSize'; Category = 'InvalidArgument' }
        @{ Case = 'data size not a multiple of the block size'; Arguments = @{ Name = 'p'; DataSize = 1GB + 512 }; Id = 'InvalidSize'; Category = 'InvalidArgument' }
        @{ Case = 'block size under 64 KiB'; Arguments = @{ Name = 'p'; BlockSize = 32KB }; Id = 'InvalidBlockSize'; Category = 'InvalidArgument' }
        @{ Case = 'block size over 1 GiB'; Arguments = @{ Name = 'p'; BlockSize = 2GB }; Id = 'InvalidBlockSize'; Category = 'InvalidArgument' }
        @{ Case = 'block size not a multiple of 64 KiB'; Arguments = @{ Name = 'p'; BlockSize = 96KB }; Id = 'InvalidBlockSize'; Category = 'InvalidArgument' }
        @{ Case = 'metadata under 2 MiB'; Arguments = @{ Name = 'p'; MetadataSize = 1MB }; Id = 'MetadataSizeOutOfRange'; Category = 'InvalidArgument' }
        @{ Case = 'metadata over the kernel limit'; Arguments = @{ Name = 'p'; MetadataSize = 33423361 * 512 }; Id = 'MetadataSizeOutOfRange'; Category = 'InvalidArgument' }
        @{ Case = 'minimum free space over 99%'; Arguments = @{ Name = 'p'; MinimumFreeSpacePercent = 100 }; Id = 'InvalidSetting'; Category = 'InvalidArgument' }
        @{ Case = 'low water mark beyond the pool'; Arguments = @{ Name = 'p'; DataSize = 1GB; LowWaterMark = 16384 }; Id = 'InvalidSetting'; Category = 'InvalidArgument' }
    ) {
        $before = @(Get-ChildItem -Recurse $script:root -ErrorAction SilentlyContinue).FullName
        $caught = $null
        try { New-ThinPool @Arguments -StateRoot $script:root -ErrorAction Stop } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        if ($Category) { $caught.CategoryInfo.Category | Should -Be $Category }
        @(Get-ChildItem -Recurse $script:root -ErrorAction SilentlyContinue).FullName | Should -Be $before
    }

    It 'warns, not fails, when metadata is under the kernel guideline' {
        $warnings = New-ThinPool -Name p -DataSize 10TB -MetadataSize 2GB -StateRoot $script:root -WhatIf 3>&1 6>$null |
            Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
        $warnings.Message | Should -Match 'guideline'
        # Data whose mappings no metadata size holds: the warning names a block size that does.
        $warnings = New-ThinPool -Name p -DataSize 100TB -MetadataSize 15GB -StateRoot $script:root -WhatIf 3>&1 6>$null |
            Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
        $warnings.Message | Should -Match '-BlockSize 512 KiB would fit'
    }
}

Describe 'Without device-mapper (the host has none)' {
    BeforeAll {
        $script:hasDm = (Get-Content /proc/misc -Raw) -match 'device-mapper'
    }

    It 'New-ThinPool fails with DeviceMapperUnavailable and writes nothing' -Skip:$script:hasDm {
        $state = Join-Path $script:root 'nodm'
        $caught = $null
        try { New-ThinPool -Name nodm -DataSize 1GB -MetadataSize 16MB -StateRoot $state -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'DeviceMapperUnavailable,*'
        $caught.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $caught.Exception.Message | Should -Match 'device-mapper'
        Test-Path $state | Should -BeFalse
    }

    It 'Enable-ThinPool -All on an empty registry does nothing, quietly' {
        Enable-ThinPool -All -StateRoot (Join-Path $script:root 'empty') -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'Get-ThinPool on an empty registry returns nothing' {
        Get-ThinPool -StateRoot (Join-Path $script:root 'empty') | Should -BeNullOrEmpty
    }

    It 'Get-ThinPool names a missing pool' {
        $caught = $null
        try { Get-ThinPool -Name missing -StateRoot $script:root -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'PoolNotFound,*'
        $caught.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'refuses a state root that is a symbolic link' {
        $real = Join-Path $script:root 'real'
        $link = Join-Path $script:root 'link'
        New-Item -ItemType Directory $real | Out-Null
        New-Item -ItemType SymbolicLink -Path $link -Target $real | Out-Null
        $caught = $null
        try { New-ThinPool -Name p -DataSize 1GB -MetadataSize 16MB -StateRoot $link -ErrorAction Stop } catch { $caught = $_ }
        # No driver on the host is reported first: it is checked before the registry is touched.
        $caught.FullyQualifiedErrorId | Should -BeIn @('StateRootInvalid,DmPowerShell.Commands.Cmdlets.NewThinPoolCommand', 'DeviceMapperUnavailable,DmPowerShell.Commands.Cmdlets.NewThinPoolCommand')
        @(Get-ChildItem $real).Count | Should -Be 0
    }
}

Describe 'Installing' {
    It 'saves from the local repository with a fresh HOME and imports by name' {
        $repository = Join-Path (Split-Path (Split-Path (Split-Path $env:DMPS_MODULE_MANIFEST))) 'repository'
        Get-ChildItem $repository -Filter 'DmPowerShell.*.nupkg' | Should -Not -BeNullOrEmpty
        $home2 = Join-Path $script:root 'home'; $modules = Join-Path $script:root 'modules'
        New-Item -ItemType Directory $home2, $modules | Out-Null
        $command = "Register-PSResourceRepository -Name DmpsLocal -Uri '$repository' -Trusted; Save-PSResource -Name DmPowerShell -Repository DmpsLocal -Path '$modules' -TrustRepository; `$env:PSModulePath = '$modules' + [IO.Path]::PathSeparator + `$env:PSModulePath; Import-Module DmPowerShell; (Get-Module DmPowerShell).ModuleBase; (Get-Command -Module DmPowerShell).Count"
        $saved = $env:HOME
        $env:HOME = $home2
        try { $out = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $command 2>&1 }
        finally { $env:HOME = $saved }
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        $version = (Import-PowerShellDataFile $env:DMPS_MODULE_MANIFEST).ModuleVersion
        $out[-2] | Should -Be (Join-Path $modules "DmPowerShell/$version")
        [int]$out[-1] | Should -Be (Get-Command -Module DmPowerShell).Count
    }
}

Describe 'The systemd unit <Unit>' -ForEach @(
    @{ Unit = 'dmpowershell-pools.service'; Instance = 'dmpowershell-pools.service' }
    @{ Unit = 'dmpowershell-watch@.service'; Instance = 'dmpowershell-watch@web.service' }
    @{ Unit = 'dmpowershell-metrics.service'; Instance = 'dmpowershell-metrics.service' }
) {
    It 'passes systemd-analyze verify' {
        if (-not (Get-Command systemd-analyze -ErrorAction Ignore)) { throw 'systemd-analyze is missing: tools/setup.sh installs systemd' }
        $unit = Join-Path $PSScriptRoot "../../../packaging/systemd/$Unit"
        $copy = Join-Path $script:root $Instance
        # verify insists that ExecStart's program exists: point it at this host's pwsh if /usr/bin/pwsh is absent.
        $pwsh = if (Test-Path /usr/bin/pwsh) { '/usr/bin/pwsh' } else { Join-Path $PSHOME 'pwsh' }
        (Get-Content -Raw $unit).Replace('/usr/bin/pwsh', $pwsh) | Set-Content -NoNewline $copy
        $output = & systemd-analyze verify $copy 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        $output | Should -Not -Match ([regex]::Escape("${Instance}:"))
    }

    It 'runs the module''s cmdlets in PowerShell that parses and binds' {
        $unit = Join-Path $PSScriptRoot "../../../packaging/systemd/$Unit"
        foreach ($line in Get-Content $unit | Where-Object { $_ -match '^Exec(Start|Stop)=' }) {
            $line -match '-Command "(?<command>[^"]+)"' | Should -BeTrue
            $tokens = $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($Matches.command.Replace('%I', 'web'), [ref] $tokens, [ref] $errors)
            $errors | Should -BeNullOrEmpty
            foreach ($call in $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)) {
                if ((Get-Command $call.GetCommandName() -ErrorAction Ignore).ModuleName -eq 'DmPowerShell') {
                    [System.Management.Automation.Language.StaticParameterBinder]::BindCommand($call, $true).BindingExceptions.Count | Should -Be 0
                }
            }
        }
        # The watcher handles systemd's default SIGTERM itself (tried against the kernel in Monitoring.Tests.ps1).
        if ($Unit -like '*watch*') { Get-Content -Raw $unit | Should -Not -Match 'KillSignal' }
    }

}

Describe 'The Prometheus alert rules' {
    BeforeAll {
        $script:rules = Join-Path $PSScriptRoot '../../../packaging/prometheus'
        if (-not (Get-Command promtool -ErrorAction Ignore)) { throw 'promtool is missing: tools/setup.sh installs prometheus' }
    }

    It 'pass promtool check rules' {
        $output = & promtool check rules (Join-Path $script:rules 'dmpowershell.rules.yml') 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        $output | Should -Match 'SUCCESS: 5 rules found'
    }

    It 'fire as promtool test rules expects for a pool series crossing them' {
        Push-Location $script:rules
        try { $output = & promtool test rules 'dmpowershell.rules.test.yml' 2>&1 | Out-String }
        finally { Pop-Location }
        $LASTEXITCODE | Should -Be 0 -Because $output
    }
}
