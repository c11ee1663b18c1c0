# baseline.ps1 (phases 02 and 07) on a fake Windows Server 2022: OS, hotfixes, WUA history, services, drivers, apps,
# pending-reboot signals, last boot and disks.
BeforeAll {
    . $PSScriptRoot/FakeWindows.ps1
    . $PSScriptRoot/ScriptRunner.ps1
    $script:Uninstall = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
    $script:CumulativeTitle = '2026-01 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5034129)'
    function Invoke-Baseline { param([hashtable]$Machine) return Invoke-OnFakeWindows 'baseline' $Machine (Get-CaseParameters 'baseline') }
}

Describe 'baseline.ps1' {
    BeforeAll { Install-FakeWindows }

    It 'reports an installation already in progress (IUpdateInstaller.IsBusy), and none on a quiet server' {
        $quiet = (Invoke-Baseline (New-FakeMachine)).Doc
        $quiet.errors.Count | Should -Be 0
        $quiet.data.installInProgress.busy | Should -BeFalse
        $m = New-FakeMachine
        $m.Wua.InstallerBusy = $true
        $d = (Invoke-Baseline $m).Doc
        $d.errors.Count | Should -Be 0
        $d.data.installInProgress.busy | Should -BeTrue
        $d.data.installInProgress.by | Should -BeExactly 'Windows Update'
    }

    It 'reports every section of a normal server' {
        $m = New-FakeMachine
        $m.Wua.History = @(
            New-FakeHistoryEntry -Title $CumulativeTitle -Date ([datetime]::new(2025, 12, 10, 3, 12, 0)) -ResultCode 2
            New-FakeHistoryEntry -Title 'Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 (Version 1.403.1234.0)' -Date ([datetime]::new(2026, 1, 19, 22, 0, 0)) -ResultCode 2
        )
        $d = (Invoke-Baseline $m).Doc
        $d.errors.Count | Should -Be 0
        $d.data.os.family | Should -BeExactly 'windows'
        $d.data.os.name | Should -BeExactly 'Microsoft Windows Server 2022 Datacenter'
        $d.data.os.version | Should -BeExactly '10.0.20348'
        $d.data.os.build | Should -BeExactly '20348.2340'
        @($d.data.installedUpdates).Count | Should -Be 2
        $d.data.installedUpdates[0].id | Should -BeExactly 'KB5034129'
        $d.data.installedUpdates[0].kb | Should -BeExactly 'KB5034129'
        $d.data.installedUpdates[1].PSObject.Properties['installedOn'] | Should -BeNullOrEmpty -Because 'WMI left InstalledOn empty'
        @($d.data.updateHistory).Count | Should -Be 2
        $d.data.updateHistory[0].kb | Should -BeExactly 'KB5034129'
        $d.data.updateHistory[0].operation | Should -BeExactly 'Installation'
        $d.data.updateHistory[1].kb | Should -BeExactly 'KB2267602'
        @($d.data.services | ForEach-Object { $_.name }) | Should -Be @('W3SVC', 'wuauserv', 'MSSQLSERVER')
        $d.data.services[0].startType | Should -BeExactly 'Auto'
        @($d.data.drivers).Count | Should -Be 1 -Because 'a driver without a device name is skipped'
        $d.data.drivers[0].provider | Should -BeExactly 'Microsoft'
        @($d.data.apps | ForEach-Object { $_.name } | Sort-Object) | Should -Be @('Internet Information Services', 'Microsoft SQL Server 2019 (64-bit)') -Because 'a key without DisplayName (a system component) is skipped'
        $d.data.pendingReboot.pending | Should -BeFalse
        @($d.data.pendingReboot.signals).Count | Should -Be 0
        $d.data.lastBootTime | Should -BeExactly '2026-01-20T01:30:00Z'
        @($d.data.disks).Count | Should -Be 1 -Because 'only fixed disks (DriveType 3) are reported'
        $d.data.disks[0].mount | Should -BeExactly 'C:'
        $d.data.disks[0].freeBytes | Should -Be 42949672960
        $d.data.disks[0].totalBytes | Should -Be 136365211648
        $d.data.capturedAt | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
    }

    It 'reports WUA history and hotfix dates as the UTC instants and days they are (device far from UTC)' {
        # WUA hands its dates over COM as DateTime values without a kind; they are UTC. QFE InstalledOn is a day.
        $m = New-FakeMachine
        $m.Wua.History = @(New-FakeHistoryEntry -Title $CumulativeTitle -Date ([datetime]::new(2026, 1, 20, 2, 15, 0)) -ResultCode 2)
        $d = (Invoke-Baseline $m).Doc
        $d.data.updateHistory[0].date | Should -BeExactly '2026-01-20T02:15:00Z'
        $d.data.installedUpdates[0].installedOn | Should -BeExactly '2025-12-10T00:00:00Z'
    }

    It 'reports [] (not null) for sections that looked and found nothing' {
        $m = New-FakeMachine
        $m.Cim.Win32_QuickFixEngineering = @()
        $m.Cim.Win32_Service = @()
        $m.Cim.Win32_PnPSignedDriver = @()
        $m.Cim.Win32_LogicalDisk = @()
        foreach ($k in @($m.Registry.Keys)) { if ($k.StartsWith("$Uninstall\")) { $m.Registry.Remove($k) } }
        $run = Invoke-Baseline $m
        $d = $run.Doc
        $d.errors.Count | Should -Be 0
        foreach ($section in 'installedUpdates', 'updateHistory', 'services', 'drivers', 'apps', 'disks') {
            $run.Text | Should -Match ('"{0}":\[\]' -f $section) -Because "$section looked and found nothing"
        }
    }

    It 'reports a one-element list as a list' {
        $m = New-FakeMachine
        $m.Cim.Win32_Service = @([pscustomobject]@{ Name = 'W3SVC'; State = 'Running'; StartMode = 'Auto' })
        $m.Wua.History = @(New-FakeHistoryEntry -Title $CumulativeTitle -Date ([datetime]::new(2026, 1, 2)) -ResultCode 2)
        $run = Invoke-Baseline $m
        $run.Text | Should -Match '"services":\[\{"name":"W3SVC"'
        $run.Text | Should -Match '"updateHistory":\[\{'
    }

    It 'reports every pending-reboot signal (CBS, Windows Update, PendingFileRenameOperations)' {
        $m = New-FakeMachine
        $m.Registry['HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'] = @{}
        $m.Registry['HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'] = @{}
        $m.Registry['HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'].PendingFileRenameOperations = @('\??\C:\Windows\Temp\x.dll', '')
        $m.Wua.SystemRebootRequired = $true
        $d = (Invoke-Baseline $m).Doc
        $d.data.pendingReboot.pending | Should -BeTrue
        @($d.data.pendingReboot.signals) | Should -Be @('CBS', 'WindowsUpdate', 'PendingFileRenameOperations')
    }

    It 'keeps a failed and a rolled-back update in history with its HResult and result code' {
        $m = New-FakeMachine
        $m.Wua.History = @(
            New-FakeHistoryEntry -Title '2026-01 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5012346)' -Date ([datetime]::new(2026, 1, 20, 2, 40, 0)) -ResultCode 4 -HResult 0x80070643
            New-FakeHistoryEntry -Title $CumulativeTitle -Date ([datetime]::new(2026, 1, 20, 2, 50, 0)) -ResultCode 2 -Operation 2
            New-FakeHistoryEntry -Title 'Update without a KB number' -Date ([datetime]::new(2026, 1, 20, 2, 55, 0)) -ResultCode 5 -HResult 0x80240016 -Operation 3
            New-FakeHistoryEntry -Title '' -Date ([datetime]::new(2026, 1, 20, 2, 56, 0)) -ResultCode 2
        )
        $d = (Invoke-Baseline $m).Doc
        @($d.data.updateHistory).Count | Should -Be 3 -Because 'entries without a title are skipped'
        $d.data.updateHistory[0].kb | Should -BeExactly 'KB5012346'
        $d.data.updateHistory[0].resultCode | Should -Be 4
        $d.data.updateHistory[0].hresult | Should -Be -2147023293 -Because '0x80070643 as a signed 32-bit integer'
        $d.data.updateHistory[1].operation | Should -BeExactly 'Uninstallation'
        $d.data.updateHistory[2].operation | Should -BeExactly 'Other'
        $d.data.updateHistory[2].PSObject.Properties['kb'] | Should -BeNullOrEmpty
        $d.data.updateHistory[2].hresult | Should -Be -2145124330
    }

    It 'reports updateHistory null with permission-denied when the WUA session is refused (not SYSTEM)' {
        $m = New-FakeMachine
        $m.Wua.Errors.CreateSession = 0x80070005
        $d = (Invoke-Baseline $m).Doc
        $d.data.updateHistory | Should -BeNullOrEmpty
        $d.data.PSObject.Properties['updateHistory'] | Should -Not -BeNullOrEmpty -Because 'the section is present, as null'
        (Get-ScriptError $d 'updateHistory').code | Should -BeExactly 'permission-denied'
        @($d.data.services).Count | Should -Be 3 -Because 'the other sections still report'
    }

    It 'reports the HRESULT of a failing WUA call, not the PowerShell wrapper type' {
        # 0x8024402C WU_E_PT_WINHTTP_NAME_NOT_RESOLVED; a COM method failure reaches the script inside a
        # MethodInvocationException.
        $m = New-FakeMachine
        $m.Wua.Errors.History = 0x8024402C
        $d = (Invoke-Baseline $m).Doc
        $d.data.updateHistory | Should -BeNullOrEmpty
        (Get-ScriptError $d 'updateHistory').code | Should -BeExactly '0x8024402C'
        (Get-ScriptError $d 'updateHistory').message | Should -Match '0x8024402C'
    }

    It 'reports a COM class that is not registered with its HRESULT (0x80040154)' {
        $m = New-FakeMachine
        $m.Wua.Errors.CreateSession = 0x80040154
        $d = (Invoke-Baseline $m).Doc
        (Get-ScriptError $d 'updateHistory').code | Should -BeExactly '0x80040154'
    }

    It 'reports null sections for WMI and registry access denied, and says why' {
        $m = New-FakeMachine
        $m.CimErrors.Win32_Service = [Microsoft.Management.Infrastructure.CimException]::new('Access denied ')
        $m.CimErrors.Win32_OperatingSystem = [System.UnauthorizedAccessException]::new('Access is denied.')
        $m.RegistryDenied = @($Uninstall)
        $d = (Invoke-Baseline $m).Doc
        $d.data.services | Should -BeNullOrEmpty
        $d.data.apps | Should -BeNullOrEmpty
        $d.data.os | Should -BeNullOrEmpty
        $d.data.lastBootTime | Should -BeNullOrEmpty
        (Get-ScriptError $d 'services').code | Should -BeExactly 'CimException'
        (Get-ScriptError $d 'apps').code | Should -BeExactly 'permission-denied'
        (Get-ScriptError $d 'os').code | Should -BeExactly 'permission-denied'
        (Get-ScriptError $d 'lastBootTime').code | Should -BeExactly 'permission-denied'
        @($d.data.drivers).Count | Should -Be 1
        $d.data.pendingReboot.pending | Should -BeFalse
    }

    It 'reports os null when the CurrentVersion key is missing' {
        $m = New-FakeMachine
        $m.Registry.Remove('HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion')
        $d = (Invoke-Baseline $m).Doc
        $d.data.os | Should -BeNullOrEmpty
        Get-ErrorSections $d | Should -Be @('os')
    }

    It 'prints a document far larger than the 4 KB instance-view tail, whole, on one line' {
        $m = New-FakeMachine
        $m.Cim.Win32_Service = @(1..400 | ForEach-Object { [pscustomobject]@{ Name = "Service$_"; State = 'Running'; StartMode = 'Auto' } })
        foreach ($i in 1..300) { $m.Registry["$Uninstall\App$i"] = @{ DisplayName = "Line-of-business application $i"; DisplayVersion = "1.$i"; Publisher = 'Contoso' } }
        $m.Wua.History = @(1..700 | ForEach-Object { New-FakeHistoryEntry -Title "Update $_ (KB50$('{0:D5}' -f $_))" -Date ([datetime]::new(2025, 1, 1).AddHours($_)) })
        $run = Invoke-Baseline $m
        $run.Text.Length | Should -BeGreaterThan 40000
        $run.Text | Should -Not -Match "`n"
        @($run.Doc.data.services).Count | Should -Be 400
        @($run.Doc.data.apps).Count | Should -Be 302
        @($run.Doc.data.updateHistory).Count | Should -Be 500 -Because 'history is capped at the newest 500'
        $m.Wua.Calls | Should -Contain 'QueryHistory:0,500'
    }

    It 'carries unicode names exactly' {
        $m = New-FakeMachine
        $m.Registry["$Uninstall\U1"] = @{ DisplayName = 'Größenprüfung Werkzeug – 中文版 😀'; DisplayVersion = '2.0 β'; Publisher = 'Ünïcødé GmbH' }
        $m.Cim.Win32_Service = @([pscustomobject]@{ Name = 'Dienst-ä'; State = 'Running'; StartMode = 'Auto' })
        $d = (Invoke-Baseline $m).Doc
        $app = @($d.data.apps | Where-Object { $_.name -like 'Gr*' })[0]
        $app.name | Should -BeExactly 'Größenprüfung Werkzeug – 中文版 😀'
        $app.version | Should -BeExactly '2.0 β'
        $app.publisher | Should -BeExactly 'Ünïcødé GmbH'
        $d.data.services[0].name | Should -BeExactly 'Dienst-ä'
    }

    It 'carries every hostile string from the injection list as inert data' {
        $m = New-FakeMachine
        $hostile = Get-HostileValues
        for ($i = 0; $i -lt $hostile.Count; $i++) { $m.Registry["$Uninstall\H$i"] = @{ DisplayName = $hostile[$i]; Publisher = $hostile[$i] } }
        $m.Wua.History = @($hostile | Where-Object { $_ } | ForEach-Object { New-FakeHistoryEntry -Title $_ -Date ([datetime]::new(2026, 1, 1)) })
        $d = (Invoke-Baseline $m).Doc
        $names = @($d.data.apps | ForEach-Object { $_.name })
        foreach ($h in $hostile) { $names | Should -Contain $h }
        @($d.data.updateHistory | ForEach-Object { $_.title }) | Should -Be @($hostile | Where-Object { $_ })
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
        Should -Invoke Invoke-Expression -Times 0 -Exactly
    }
}
