@{
    # The one place that holds the module's version; build.ps1 stamps it into the assemblies.
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0b3f4e-6f7c-4f0e-9a57-2f6d0c6a9d11'
    RootModule           = 'DmPowerShell.dll'
    Author               = 'DmPowerShell developers'
    CompanyName          = 'DmPowerShell'
    Copyright            = '(c) DmPowerShell developers. MIT License.'
    Description          = 'For Linux on x86-64. Linux device-mapper thin provisioning as PowerShell cmdlets: thin pools on loop files or block devices, thin volumes and snapshots, typed status, over libdevmapper.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    # Linux only (device-mapper), x86-64 only (Tmds.LibC's linux-x64 build ships beside the module).
    ProcessorArchitecture = 'Amd64'
    FormatsToProcess     = @('DmPowerShell.Format.ps1xml')
    TypesToProcess       = @('DmPowerShell.Types.ps1xml')
    CmdletsToExport      = @(
        'New-ThinPool', 'Get-ThinPool', 'Get-PoolStatus', 'Resize-ThinPool', 'Set-ThinPool', 'Remove-ThinPool',
        'Enable-ThinPool', 'Disable-ThinPool', 'Test-ThinPool', 'Repair-ThinPool', 'Export-ThinPool', 'Restore-ThinPool', 'Watch-ThinPool', 'Export-PoolMetric',
        'New-ThinVolume', 'New-ThinSnapshot', 'Get-ThinVolume', 'Enable-ThinVolume', 'Disable-ThinVolume',
        'Rename-ThinVolume', 'Resize-ThinVolume', 'Remove-ThinVolume', 'Compare-ThinVolume', 'Restore-ThinVolume', 'Export-ThinVolume', 'Import-ThinVolume', 'Send-ThinVolume'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'DeviceMapper', 'ThinProvisioning', 'Storage', 'dmsetup', 'PSEdition_Core')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'Thin pools, thin volumes and snapshots over a crash-safe registry.'
        }
    }
}
