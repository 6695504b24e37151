# The Pester user's page (guest lane only): the test file of about_DmPowerShell_Testing runs as
# written, with its pool in TestDrive, and leaves nothing behind; nor does it after a test that
# throws in its middle (with its volume mounted).
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane

    function Get-Leftover {
        # What the example's pool could leave: its device-mapper devices, loop devices on its files, state roots in TestDrive.
        $devices = @(& (Resolve-Tool dmsetup) ls 2>&1 | Where-Object { $_ -match '^pestersite' })
        $loops = @(& (Resolve-Tool losetup) -l -n -O BACK-FILE 2>&1 | Where-Object { $_ -match 'pestersite' })
        $roots = @(Get-ChildItem ([IO.Path]::GetTempPath()) -Directory | Where-Object { Test-Path (Join-Path $_.FullName 'state') })
        @($devices) + $loops + @($roots.FullName)
    }
}

Describe 'The test file of about_DmPowerShell_Testing' -Tag Kernel {
    It 'runs as written, and again with a throw in its first test: both leave nothing' -Tag FullOnly {
        $text = Get-Content -Raw (Join-Path $PSScriptRoot '../../../docs/help/about_DmPowerShell_Testing.md')
        $text -match '(?s)```powershell\r?\n(?<code>.*?)```' | Should -BeTrue
        $code = $Matches.code
        $folder = New-TestStateRoot
        $asWritten = Join-Path $folder 'Site.Tests.ps1'
        Set-Content $asWritten $code
        # The throw comes while the volume is mounted: the test's finally unmounts, the teardown removes.
        $marker = '# The test''s own steps go here.'
        $code | Should -Match ([regex]::Escape($marker))
        $throwing = Join-Path $folder 'Throwing.Tests.ps1'
        Set-Content $throwing $code.Replace($marker, "throw 'the test dies midway'")
        Get-Leftover | Should -BeNullOrEmpty

        # A pwsh of its own, as a user runs Invoke-Pester: the module by name from PSModulePath.
        $modules = Split-Path (Split-Path (Split-Path $env:DMPS_MODULE_MANIFEST))
        $pester = Join-Path (Get-Module Pester).ModuleBase 'Pester.psd1'
        $script = @"
`$env:PSModulePath = '$modules' + [IO.Path]::PathSeparator + `$env:PSModulePath
Import-Module '$pester'
foreach (`$file in '$asWritten', '$throwing') {
    `$result = Invoke-Pester -Path `$file -PassThru -Output Detailed
    "RESULT `$([IO.Path]::GetFileName(`$file)) passed=`$(`$result.PassedCount) failed=`$(`$result.FailedCount) blocks=`$(`$result.FailedBlocksCount)"
}
"@
        $output = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -Command $script 2>&1 | Out-String
        Write-Host $output
        $output | Should -Match 'RESULT Site.Tests.ps1 passed=2 failed=0 blocks=0'
        $output | Should -Match 'RESULT Throwing.Tests.ps1 passed=1 failed=1 blocks=0'
        $output | Should -Match 'the test dies midway'
        Get-Leftover | Should -BeNullOrEmpty
        Remove-Item -Recurse -Force $folder
    }
}
