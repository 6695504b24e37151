# Pools this module did not make: Get-PoolStatus reads them, and nothing else touches them.
BeforeAll {
    Import-Module $env:DMPS_MODULE_MANIFEST -Force
    Import-Module (Join-Path $PSScriptRoot 'KernelLane.psm1') -Force
    Assert-KernelLane
}

Describe 'A thin pool made by LVM' -Tag Kernel {
    BeforeAll {
        $root = New-TestStateRoot
        # LVM with its own configuration: no udev in the guest, only our loop device scanned.
        $env:LVM_SYSTEM_DIR = Join-Path $root 'lvm'
        New-Item -ItemType Directory $env:LVM_SYSTEM_DIR | Out-Null
        @'
devices { obtain_device_list_from_udev = 0 external_device_info_source = "none" filter = [ "a|^/dev/loop|", "r|.*|" ] }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
global { use_lvmpolld = 0 }
'@ | Set-Content (Join-Path $env:LVM_SYSTEM_DIR 'lvm.conf')
        $file = Join-Path $root 'pv.img'
        Invoke-Tool truncate @('-s', '512M', $file) | Out-Null
        $pv = (Invoke-Tool losetup @('-f', '--show', $file)).Trim()
        Invoke-Tool pvcreate @('-q', $pv) | Out-Null
        Invoke-Tool vgcreate @('-q', 'dmpsvg', $pv) | Out-Null
        Invoke-Tool lvcreate @('-q', '--type', 'thin-pool', '-L', '128M', '--poolmetadatasize', '8M', '-Zn', '-n', 'tpool', 'dmpsvg') | Out-Null
    }
    AfterAll {
        Invoke-Tool vgchange @('-q', '-an', 'dmpsvg') -AllowFailure | Out-Null
        # thin_check on the pool's metadata, through LVM's read-only component activation.
        # (With no thin volume yet, LVM names the thin-pool device itself dmpsvg-tpool.)
        Invoke-Tool lvchange @('-q', '-ay', '-y', 'dmpsvg/tpool_tmeta') | Out-Null
        $check = Test-ThinMetadata /dev/mapper/dmpsvg-tpool_tmeta
        Invoke-Tool lvchange @('-q', '-an', 'dmpsvg/tpool_tmeta') -AllowFailure | Out-Null
        Invoke-Tool vgremove @('-q', '-f', 'dmpsvg') -AllowFailure | Out-Null
        Invoke-Tool losetup @('-d', $pv) -AllowFailure | Out-Null
        Remove-Item Env:LVM_SYSTEM_DIR
        Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue
        $check | Should -BeNullOrEmpty
    }

    It 'is listed and read, typed, as LVM''s' {
        $status = Get-PoolStatus -StateRoot $root | Where-Object Manager -eq 'Lvm'
        $status | Should -Not -BeNullOrEmpty
        $status.PoolName | Should -Be 'dmpsvg-tpool'
        $status.Uuid | Should -BeLike 'LVM-*'
        $status.DataSpaceTotal | Should -Be 128MB
        $status.Health | Should -Be 'Ok'
        $status.Name | Should -BeNullOrEmpty
        (Get-PoolStatus dmpsvg-tpool -StateRoot $root).DataSpaceTotal | Should -Be 128MB
    }

    It 'is watched and reported on, never extended: LVM grows its own pools' {
        $events = @(Watch-ThinPool dmpsvg-tpool -Timeout 2 -CheckInterval 1 -StateRoot $root)
        $events[0].Kind | Should -Be 'Started'
        $events[0].Name | Should -Be 'dmpsvg-tpool'
        $events[0].Extends | Should -BeFalse
        $events[0].Message | Should -Match 'LVM manages this pool'
        $events.Kind | Should -Not -Contain 'Extended'
        (Get-PoolStatus dmpsvg-tpool -StateRoot $root).DataSpaceTotal | Should -Be 128MB
    }

    It 'is not the module''s to change' {
        { Remove-ThinPool -Name dmpsvg-tpool -Force -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'PoolNotFound,*'
        { Resize-ThinPool -Name dmpsvg -DataSize 1GB -StateRoot $root -ErrorAction Stop } | Should -Throw -ErrorId 'PoolNotFound,*'
        Invoke-Tool dmsetup @('info', 'dmpsvg-tpool') | Should -Match 'ACTIVE'
    }
}
