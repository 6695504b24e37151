# The systemd unit that runs Watch-ThinPool as a service: systemd accepts it, and the PowerShell
# it runs parses and names the module's own cmdlet and parameters. (The guest runs no systemd;
# stopping a watcher with SIGINT, as the unit does, is a kernel test in Monitoring.Tests.ps1.)
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    $script:unit = Join-Path $PSScriptRoot '../../../systemd/dmpowershell-watch@.service'
}

Describe 'The watcher service unit' {
    It 'passes systemd-analyze verify, as an instance for a pool' {
        if (-not (Get-Command systemd-analyze -ErrorAction Ignore)) { throw 'systemd-analyze is missing: tools/setup.sh installs systemd' }
        $folder = Join-Path ([IO.Path]::GetTempPath()) "unit-$PID"
        $null = New-Item -ItemType Directory -Force $folder
        try {
            Copy-Item $script:unit (Join-Path $folder 'dmpowershell-watch@web.service')
            $output = & systemd-analyze verify (Join-Path $folder 'dmpowershell-watch@web.service') 2>&1 | Out-String
            $LASTEXITCODE | Should -Be 0 -Because $output
            $output.Trim() | Should -BeNullOrEmpty -Because 'systemd should have nothing to warn about'
        }
        finally { Remove-Item -Recurse -Force $folder }
    }

    It 'runs Watch-ThinPool for the instance''s pool, in PowerShell that parses' {
        $exec = (Get-Content $script:unit | Where-Object { $_ -like 'ExecStart=*' })
        $exec | Should -HaveCount 1
        $exec -match '-Command "(?<command>[^"]+)"' | Should -BeTrue
        $command = $Matches.command.Replace('%I', 'web')
        $tokens = $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($command, [ref] $tokens, [ref] $errors)
        $errors | Should -BeNullOrEmpty
        $calls = $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)
        $watch = $calls | Where-Object { $_.GetCommandName() -eq 'Watch-ThinPool' }
        $watch | Should -HaveCount 1
        $bound = [System.Management.Automation.Language.StaticParameterBinder]::BindCommand($watch, $true)
        $bound.BindingExceptions.Count | Should -Be 0
        $bound.BoundParameters['Name'].ConstantValue | Should -Be 'web'
        (Get-Content -Raw $script:unit) | Should -Match 'KillSignal=SIGINT'
    }
}
