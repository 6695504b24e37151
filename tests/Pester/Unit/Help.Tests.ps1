# Help contract, host side: the markdown in docs/help agrees with every cmdlet, and Get-Help
# shows what was compiled from it. The examples themselves run in the guest (Examples.Tests.ps1).
BeforeDiscovery {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    $script:commands = @(Get-Command -Module DmPowerShell -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
}
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    $script:repo = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
    Import-Module (Join-Path $script:repo 'tools/help/HelpMarkdown.psm1') -Force
    $script:helpFolder = Join-Path $script:repo 'docs/help'
    $script:compiledHelp = Join-Path (Split-Path $env:DMPS_MODULE_MANIFEST) 'en-US/DmPowerShell.dll-Help.xml'
}

Describe 'Help for <Name>' -ForEach $script:commands {
    It 'has markdown that agrees with the cmdlet (parameters, types, sets, positions, pipeline input)' {
        $problems = Test-HelpMarkdown -Command (Get-Command $Name) -Path (Join-Path $script:helpFolder "$Name.md")
        $problems | Should -BeNullOrEmpty
    }

    It 'ships every example of its markdown, code and title unchanged, in the compiled help (the guest runs them from there)' {
        $markdown = Read-HelpMarkdown (Join-Path $script:helpFolder "$Name.md")
        $compiled = @(Read-MamlExample $script:compiledHelp | Where-Object Command -eq $Name)
        $compiled.Count | Should -BeGreaterOrEqual 2
        @($compiled | ForEach-Object { $_.Title + "`n" + $_.Code }) |
            Should -Be @($markdown.Examples | ForEach-Object { $_.Title + "`n" + $_.Code })
    }

    It 'shows a synopsis, a description, every parameter described and at least two examples in Get-Help' {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match ([regex]::Escape($Name) + '\s*\[')  # not the generated syntax
        ($help.Description.Text -join '') | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($parameter in $help.Parameters.Parameter) {
            ($parameter.Description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) of $Name needs a description"
        }
        $documented = @($help.Parameters.Parameter.Name)
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + 'UseTransaction'
        foreach ($parameter in (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }) {
            $documented | Should -Contain $parameter
        }
    }
}

Describe 'The about topic' {
    It 'is shown by Get-Help about_DmPowerShell' {
        (Get-Help about_DmPowerShell | Out-String) | Should -Match 'ERROR IDS'
    }

    It 'documents every error id the module can raise' {
        $text = Get-Content -Raw (Join-Path $script:helpFolder 'about_DmPowerShell.md')
        $ids = [DmPowerShell.ErrorIds].GetFields() | Where-Object IsLiteral | ForEach-Object { $_.GetRawConstantValue() }
        $ids.Count | Should -BeGreaterThan 20
        foreach ($id in $ids) { $text | Should -Match "\| $id \|" -Because "error id $id must be in the table" }
    }

    It 'names every exported cmdlet in its pipeline table or text' {
        $text = Get-Content -Raw (Join-Path $script:helpFolder 'about_DmPowerShell.md')
        foreach ($command in Get-Command -Module DmPowerShell) {
            $noun = $command.Noun
            $text | Should -Match $noun
        }
    }
}

Describe 'The help compiler' {
    It 'round-trips a cmdlet''s markdown: regenerating it changes nothing' {
        $copy = Join-Path ([IO.Path]::GetTempPath()) "dmps-help-$PID"
        New-Item -ItemType Directory -Force $copy | Out-Null
        try {
            Copy-Item (Join-Path $script:helpFolder '*.md') $copy
            Update-HelpMarkdown -Module DmPowerShell -OutputFolder $copy | Out-Null
            foreach ($file in Get-ChildItem $script:helpFolder -Filter '*-*.md') {
                Get-Content -Raw (Join-Path $copy $file.Name) | Should -BeExactly (Get-Content -Raw $file.FullName) -Because "$($file.Name) should be what Update-HelpMarkdown writes"
            }
        }
        finally { Remove-Item -Recurse -Force $copy }
    }
}
