# Fleet maintenance over PowerShell remoting (guest lane only): two sshd on loopback with the
# pwsh subsystem stand in for two hosts, each with its own state root and pools. The module's
# objects and errors survive the trip; JSON and CLIXML of every output type are complete; the
# fleet example of about_DmPowerShell_Fleet runs as written; Send-ThinVolume carries a volume between them.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
}

# Two sshd and their pwsh sessions cost about a minute in the guest: FullGuestTest runs this part.
Describe 'The module over SSH remoting' -Tag Kernel, FullOnly {
    BeforeAll {
        if (-not (Test-Path /usr/sbin/sshd)) { throw 'sshd is missing: tools/setup.sh installs openssh-server' }

        $work = New-TestStateRoot
        $null = New-Item -ItemType Directory -Force /run/sshd
        Invoke-Tool ssh-keygen @('-q', '-t', 'ed25519', '-N', '', '-f', "$work/hostkey") | Out-Null
        Invoke-Tool ssh-keygen @('-q', '-t', 'ed25519', '-N', '', '-f', "$work/id") | Out-Null
        Copy-Item "$work/id.pub" "$work/authorized_keys"
        $dotnetRoot = Split-Path (Get-Item (Get-Command dotnet).Source).ResolvedTarget
        # Two hosts: different addresses, so PSComputerName tells them apart.
        $hosts = @(
            @{ Name = 'alpha'; HostName = '127.0.0.1'; Port = 2201 }
            @{ Name = 'beta'; HostName = 'localhost'; Port = 2202 }
        )
        foreach ($h in $hosts) {
            $h.Root = Join-Path $work $h.Name
            $null = New-Item -ItemType Directory $h.Root
            @"
Port $($h.Port)
ListenAddress 127.0.0.1
HostKey $work/hostkey
PidFile $work/$($h.Name).pid
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv DMPS_STATE_ROOT=$($h.Root) DOTNET_ROOT=$dotnetRoot POWERSHELL_UPDATECHECK=Off HOME=/root PSModulePath=$(Split-Path (Split-Path (Split-Path $env:DMPS_MODULE_MANIFEST)))
Subsystem powershell $(Join-Path $PSHOME 'pwsh') -sshs -NoLogo -NoProfile
"@ | Set-Content "$work/$($h.Name).conf"
            Invoke-Tool /usr/sbin/sshd @('-f', "$work/$($h.Name).conf", '-E', "$work/$($h.Name).log") | Out-Null
        }
        $Fleet = foreach ($h in $hosts) {
            @{ HostName = $h.HostName; Port = $h.Port; UserName = 'root'; KeyFilePath = "$work/id"; ConnectingTimeout = 120000; Options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR'; AddressFamily = 'inet'; Port = "$($h.Port)" } }
        }
        try { $sessions = New-PSSession -SSHConnection $Fleet -ErrorAction Stop }
        catch {
            # Say why: each sshd's log, and what ssh itself sees.
            foreach ($h in $hosts) { Write-Host "== sshd $($h.Name) log"; Get-Content "$work/$($h.Name).log" -ErrorAction SilentlyContinue | Write-Host }
            foreach ($connection in $Fleet) {
                Write-Host "== New-PSSession $($connection.HostName):$($connection.Port)"
                try { New-PSSession -SSHConnection $connection -ErrorAction Stop | Remove-PSSession; Write-Host 'ok' } catch { Write-Host "$_" }
            }
            throw
        }
        $alpha = $sessions | Where-Object ComputerName -eq '127.0.0.1'
        $beta = $sessions | Where-Object ComputerName -eq 'localhost'
        # Each host's pools (dm names are per kernel, so the two hosts use different pool names).
        Invoke-Command -Session $alpha {
            New-ThinPool -Name web -DataSize 1GB -MetadataSize 16MB | New-ThinVolume -Name base -Size 256MB | New-ThinSnapshot -Name layer1 | New-ThinSnapshot -Name ctr1 | Out-Null
            New-ThinPool -Name cache -DataSize 512MB -MetadataSize 16MB | Out-Null
            Set-ThinPool web -AutoextendThreshold 80
        }
        Invoke-Command -Session $beta { New-ThinPool -Name db -DataSize 256MB -MetadataSize 16MB | New-ThinVolume -Name data -Size 512MB | Out-Null }
        & (Resolve-Tool dd) if=/dev/zero of=/dev/mapper/db-data bs=1M count=200 oflag=direct 2>&1 | Out-Null   # beta's db: 78% used
    }

    AfterAll {
        $sessions | Remove-PSSession -ErrorAction SilentlyContinue
        foreach ($h in $hosts) {
            if (Test-Path "$work/$($h.Name).pid") { Invoke-Tool kill @((Get-Content "$work/$($h.Name).pid").Trim()) -AllowFailure | Out-Null }
        }
        $problems = foreach ($h in $hosts) { try { Assert-CleanMetadata -StateRoot $h.Root } catch { $_.Exception.Message } }
        Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
        $problems | Should -BeNullOrEmpty
    }

    It 'returns pools, status and volumes that show with the module''s views and the host''s name' {
        $pools = Invoke-Command -Session $sessions { Get-ThinPool }
        $pools | Should -HaveCount 3
        $pools[0].pstypenames | Should -Contain 'Deserialized.DmPowerShell.Pools.ThinPool'
        ($pools | Sort-Object Name).PSComputerName | Should -Be @('127.0.0.1', 'localhost', '127.0.0.1')
        $table = $pools | Format-Table | Out-String -Width 200
        Write-Host $table
        $table | Should -Match 'PSComputerName'
        $table | Should -Match 'Backing'                              # the ThinPool view's columns
        $table | Should -Match '1 GiB'                                # sizes formatted by the view
        $status = Invoke-Command -Session $sessions { Get-PoolStatus | Where-Object Manager -eq 'DmPowerShell' }
        $list = $status | Where-Object PoolName -eq 'db' | Format-List | Out-String
        $list | Should -Match 'Data Space Used'                       # docker info's labels
        $volumes = Invoke-Command -Session $alpha { Get-ThinVolume -Pool web }
        ($volumes | Format-Table | Out-String) | Should -Match 'layer1'
    }

    It 'keeps nested data as data, and sorts and filters by numbers' {
        $ctr1 = Invoke-Command -Session $alpha { Get-ThinVolume -Pool web -Name ctr1 }
        $ctr1.Chain | Should -Be @('layer1', 'base')               # its origins, nearest first
        $ctr1.Chain.Count | Should -Be 2
        $web = Invoke-Command -Session $alpha { Get-ThinPool web }
        $web.DataAutoextend.ThresholdPercent | Should -Be 80
        $web.DataSize | Should -BeOfType [long]
        # Each host sees every pool of the kernel; its own are the ones it manages.
        $status = Invoke-Command -Session $sessions { Get-PoolStatus | Where-Object Manager -eq 'DmPowerShell' }
        $status[0].DataUsedPercent | Should -BeOfType [double]
        $status[0].DataSpaceTotal | Should -BeOfType [long]
        ($status | Sort-Object DataSpaceTotal).PoolName | Should -Be @('db', 'cache', 'web')
        ($status | Where-Object DataUsedPercent -gt 50).PoolName | Should -Be 'db'
        ($status | Measure-Object DataSpaceTotal -Sum).Sum | Should -Be (1GB + 512MB + 256MB)
    }

    It 'binds deserialized objects to the module''s cmdlets by property name' {
        $pool = Invoke-Command -Session $alpha { Get-ThinPool cache }
        # Name and StateRoot bind by property name (this guest shares the "host's" files).
        ($pool | Get-PoolStatus).DataSpaceTotal | Should -Be 512MB
        ($pool | Disable-ThinPool -PassThru).Active | Should -BeFalse
        ($pool | Enable-ThinPool -PassThru).Active | Should -BeTrue
        $volume = Invoke-Command -Session $alpha { Get-ThinVolume -Pool web -Name ctr1 }
        ($volume | Disable-ThinVolume -PassThru).Active | Should -BeFalse
        ($volume | Enable-ThinVolume -PassThru).Active | Should -BeTrue
    }

    It 'returns remote errors with their id, category and host' {
        $failures = $null
        Invoke-Command -Session $beta { New-ThinVolume -Pool nope -Name v -Size 1GB } -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolNotFound,*'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].OriginInfo.PSComputerName | Should -Be 'localhost'
        $failures[0].Exception.Message | Should -Match "There is no pool named 'nope'"
    }

    It 'runs the fleet example of about_DmPowerShell_Fleet as written' {
        $text = Get-Content -Raw (Join-Path $PSScriptRoot '../../../docs/help/about_DmPowerShell_Fleet.md')
        $text -match '(?s)```powershell\r?\n(?<code>.*?)```' | Should -BeTrue
        $code = $Matches.code
        $before = Invoke-Command -Session $beta { (Get-ThinPool db).DataSize }
        $output = & ([scriptblock]::Create($code)) *>&1 | Out-String -Width 200
        Write-Host $output
        $output | Should -Match 'db'
        # The -WhatIf round (its plan goes to the console) changed nothing: the pool grew by one step, not two.
        $after = Invoke-Command -Session $beta { Get-ThinPool db }
        $after.DataSize | Should -Be ([long]([math]::Ceiling($before * 1.5 / 64KB) * 64KB))
        (Invoke-Command -Session $alpha { (Get-ThinPool web).DataSize }) | Should -Be 1GB   # under the threshold: untouched
    }

    It 'sends a volume to another host, full then twice incrementally, with Send-ThinVolume' {
        Invoke-Command -Session $beta { New-ThinPool -Name recv -DataSize 512MB -MetadataSize 16MB | Out-Null }
        $alphaRoot = $hosts[0].Root
        $source = New-ThinVolume -Pool web -Name sent -Size 64MB -StateRoot $alphaRoot
        Write-Pattern $source.DevicePath 11 -Bytes 8MB
        $null = New-ThinSnapshot -Pool web -Origin sent -Name t1 -StateRoot $alphaRoot
        $received = Send-ThinVolume -Pool web -Name t1 -Session $beta -DestinationPool recv -StateRoot $alphaRoot
        $received.PSComputerName | Should -Be 'localhost'
        $received.Pool | Should -Be 'recv'
        Get-DeviceHash /dev/mapper/recv-t1 -Bytes 64MB | Should -Be (Get-DeviceHash /dev/mapper/web-t1 -Bytes 64MB)
        foreach ($round in 2, 3) {
            Write-Pattern $source.DevicePath (10 + $round) -Bytes 1MB -Offset ($round * 4MB)
            $null = New-ThinSnapshot -Pool web -Origin sent -Name "t$round" -StateRoot $alphaRoot
            $null = Send-ThinVolume -Pool web -Name "t$round" -Since "t$($round - 1)" -Session $beta -DestinationPool recv -StateRoot $alphaRoot
            Get-DeviceHash "/dev/mapper/recv-t$round" -Bytes 64MB | Should -Be (Get-DeviceHash "/dev/mapper/web-t$round" -Bytes 64MB)
        }
        (Invoke-Command -Session $beta { Get-ThinVolume -Pool recv -Name t3 }).Origin | Should -Be 't2'
        # The receiving side's refusal comes back typed, and leaves nothing there.
        $failures = $null
        Send-ThinVolume -Pool web -Name t3 -Since t1 -Session $beta -DestinationPool recv -DestinationName again -Base t2 -StateRoot $alphaRoot -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'StreamBaseMismatch*'
        (Invoke-Command -Session $beta { Get-ThinVolume -Pool recv }).Name | Sort-Object | Should -Be @('t1', 't2', 't3')
        Get-ChildItem ([IO.Path]::GetTempPath()) -Filter 'dmps-*.stream' | Should -BeNullOrEmpty
    }
}

Describe 'Every output type as JSON and CLIXML' -Tag Kernel {
    BeforeAll {
        $root = New-TestStateRoot
        $pool = New-ThinPool -Name ser -DataSize 512MB -MetadataSize 16MB -StateRoot $root
        $volume = $pool | New-ThinVolume -Name base -Size 64MB | New-ThinSnapshot -Name snap
        $outputs = [ordered]@{
            ThinPool     = $pool
            ThinVolume   = $volume
            PoolStatus   = Get-PoolStatus ser -StateRoot $root
            PoolTreeNode = @(Get-ThinPool ser -Tree -StateRoot $root)[0]
            PoolBackup   = Export-ThinPool ser -Path (Join-Path $root 'export') -StateRoot $root
            ThinPoolEvent = @(Watch-ThinPool ser -Timeout 1 -StateRoot $root)[0]
        }
        # A thin id made behind the module's back: Repair-ThinPool adopts it, which gives a PoolRepair.
        Invoke-Tool dmsetup @('message', 'ser', '0', 'create_thin 999') | Out-Null
        $outputs.PoolRepair = @(Repair-ThinPool ser -StateRoot $root -Confirm:$false)[0]
        Disable-ThinPool ser -DeactivateVolumes -StateRoot $root
        $outputs.PoolProblem = @(Test-ThinPool ser -StateRoot $root)[0]
    }
    AfterAll { Assert-CleanMetadata -StateRoot $root }

    It '<_> converts to complete JSON at the default depth, and back' -ForEach @('ThinPool', 'ThinVolume', 'PoolStatus', 'PoolTreeNode', 'PoolBackup', 'ThinPoolEvent', 'PoolProblem', 'PoolRepair') {
        $object = $outputs[$_]
        $object | Should -Not -BeNullOrEmpty
        $json = $object | ConvertTo-Json -WarningVariable truncated -WarningAction SilentlyContinue
        $truncated | Should -BeNullOrEmpty -Because 'the default depth holds the whole object'
        $json | Should -Not -Match '"(System|DmPowerShell)\.[A-Za-z.]+"' -Because 'no property may come out as a type name'
        $json.Length | Should -BeLessThan 20000
        $back = $json | ConvertFrom-Json
        foreach ($property in $object.PSObject.Properties) {
            $value = $property.Value
            if ($value -is [string] -or $value -is [ValueType]) {
                $expected = if ($value -is [enum] -or $value -is [DateTimeOffset]) { "$value" } else { $value }
                if ($value -is [DateTimeOffset]) { ([DateTimeOffset]$back.($property.Name)).UtcTicks | Should -Be $value.UtcTicks; continue }
                if ($value -is [enum]) { $back.($property.Name) | Should -Be ([int]$value) -Because $property.Name; continue }
                $back.($property.Name) | Should -Be $expected -Because $property.Name
            }
        }
    }

    It '<_> survives Export-Clixml and Import-Clixml' -ForEach @('ThinPool', 'ThinVolume', 'PoolStatus', 'PoolTreeNode', 'PoolBackup', 'ThinPoolEvent', 'PoolProblem', 'PoolRepair') {
        $object = $outputs[$_]
        $file = Join-Path $root "$_.xml"
        $object | Export-Clixml $file
        (Get-Item $file).Length | Should -BeLessThan 100KB
        $back = Import-Clixml $file
        $back.pstypenames | Should -Contain "Deserialized.$($object.GetType().FullName)"
        foreach ($property in $object.PSObject.Properties) {
            $value = $property.Value
            # An enum comes back as its number, with its name as the object's ToString (PowerShell's serializer).
            if ($value -is [enum]) { $back.($property.Name).ToString() | Should -Be "$value" -Because $property.Name; [int]$back.($property.Name) | Should -Be ([int]$value) }
            elseif ($value -is [string] -or $value -is [ValueType]) { "$($back.($property.Name))" | Should -Be "$value" -Because $property.Name }
            elseif ($value -is [System.Collections.IEnumerable]) { @($back.($property.Name)).Count | Should -Be @($value).Count -Because $property.Name }
        }
        ($back | Format-List | Out-String) | Should -Not -BeNullOrEmpty
    }
}
