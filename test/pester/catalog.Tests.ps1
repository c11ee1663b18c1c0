# catalog.ps1 (phase 03): applicable updates from the Windows Update Agent, unfiltered.
BeforeDiscovery {
    . $PSScriptRoot/ScriptRunner.ps1
    $hostileCases = Get-HostileCases
}

BeforeAll {
    . $PSScriptRoot/FakeWindows.ps1
    . $PSScriptRoot/ScriptRunner.ps1
    function Invoke-Catalog {
        param([hashtable]$Machine, [object[]]$Parameters = (Get-CaseParameters 'catalog'))
        return Invoke-OnFakeWindows 'catalog' $Machine $Parameters
    }
    function New-OfferedMachine {
        $m = New-FakeMachine
        $m.Wua.Updates = @(
            New-FakeUpdate -UpdateId '8d3e1f0a-3b5c-4c7e-9a43-2f6b1d0c9e11' -Revision 201 -Kb '5034129' -Severity 'Critical' -RebootBehavior 1 -Size 412000000 `
                -Title '2026-01 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5034129)'
            New-FakeUpdate -UpdateId '2a7c5e9d-6f1b-4e3a-8c2d-9b0e4f6a1c22' -Kb '5012346' -Severity 'Important' -RebootBehavior 2 `
                -Title '2026-01 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 for Microsoft server operating system version 21H2 for x64 (KB5012346)'
            New-FakeUpdate -UpdateId 'e4b0c2d1-9a8f-4b7e-a6c5-d3e2f1a0b933' -Kb '2267602' -Classification 'Definition Updates' -RebootBehavior 0 -Size 120000000 `
                -Title 'Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 (Version 1.403.1234.0)' -IsDownloaded $true
            New-FakeUpdate -UpdateId '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e44' -Kb '5032198' -IsInstalled $true -Title 'already installed (KB5032198)'
        )
        return $m
    }
}

Describe 'catalog.ps1' {
    BeforeAll { Install-FakeWindows }

    It 'lists the applicable updates exactly as WUA describes them' {
        $m = New-OfferedMachine
        $d = (Invoke-Catalog $m).Doc
        $d.errors.Count | Should -Be 0
        $d.data.agent | Should -BeExactly 'wua'
        $d.data.simulate | Should -BeFalse
        $d.data.searchedAt | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        @($d.data.updates).Count | Should -Be 3 -Because 'installed updates are not applicable'
        $u = $d.data.updates[0]
        $u.updateId | Should -BeExactly '8d3e1f0a-3b5c-4c7e-9a43-2f6b1d0c9e11'
        $u.revision | Should -Be 201
        $u.kb | Should -BeExactly 'KB5034129'
        $u.classification | Should -BeExactly 'Security Updates'
        $u.severity | Should -BeExactly 'Critical'
        $u.releaseDate | Should -BeExactly '2026-01-13T00:00:00Z' -Because 'WUA dates are UTC; the device is in Pacific/Auckland'
        $u.sizeBytes | Should -Be 412000000
        $u.rebootBehavior | Should -BeExactly 'AlwaysRequiresReboot'
        $d.data.updates[1].rebootBehavior | Should -BeExactly 'CanRequestReboot'
        $d.data.updates[2].classification | Should -BeExactly 'Definition Updates'
        $d.data.updates[2].severity | Should -BeNullOrEmpty -Because 'WUA leaves MsrcSeverity empty for non-security updates'
        $d.data.updates[2].rebootBehavior | Should -BeExactly 'NeverReboots'
        $m.Wua.Calls | Should -Be @("Search:IsInstalled=0 and IsHidden=0 and Type='Software'")
    }

    It 'offers driver updates only when the policy includes the Driver classification (IncludeDrivers)' {
        $m = New-OfferedMachine
        $m.Wua.Updates += @(New-FakeUpdate -UpdateId 'a1b2c3d4-0000-4000-8000-00000000d001' -Title 'Intel - Net - 1.2.3.4' -Classification 'Drivers' -Type 2 -RebootBehavior 0)
        $without = (Invoke-Catalog $m).Doc
        @($without.data.updates | Where-Object { $_.classification -eq 'Drivers' }) | Should -BeNullOrEmpty -Because 'drivers are a policy choice, off by default'
        $m.Wua.Calls.Clear()
        $with = (Invoke-Catalog $m (Get-CaseParameters 'catalog.drivers')).Doc
        $with.errors.Count | Should -Be 0
        $driver = @($with.data.updates | Where-Object { $_.classification -eq 'Drivers' })
        $driver.Count | Should -Be 1
        $driver[0].updateId | Should -BeExactly 'a1b2c3d4-0000-4000-8000-00000000d001'
        @($with.data.updates).Count | Should -Be (@($without.data.updates).Count + 1)
        $m.Wua.Calls | Should -Be @("Search:IsInstalled=0 and IsHidden=0 and Type='Software' or IsInstalled=0 and IsHidden=0 and Type='Driver'")
    }

    It 'refuses an IncludeDrivers value other than true or false without searching' {
        $m = New-OfferedMachine
        $d = (Invoke-Catalog $m @((New-Parameter 'Simulate' 'false'), (New-Parameter 'IncludeDrivers' 'yes'))).Doc
        (Get-ScriptError $d 'parameters').message | Should -BeLike 'IncludeDrivers:*'
        $d.data.updates | Should -BeNullOrEmpty
        $m.Wua.Calls.Count | Should -Be 0
    }

    It 'reports [] when nothing is applicable' {
        $m = New-FakeMachine
        $run = Invoke-Catalog $m
        $run.Text | Should -Match '"updates":\[\]'
        $run.Doc.errors.Count | Should -Be 0
    }

    It 'reports a single update as a one-element list' {
        $m = New-FakeMachine
        $m.Wua.Updates = @(New-FakeUpdate -Kb '5034129' -Title 'only one')
        (Invoke-Catalog $m).Text | Should -Match '"updates":\[\{'
    }

    It 'reports known classifications in English on a localized server and keeps unknown ones as named' {
        $m = New-FakeMachine
        $m.Wua.Updates = @(
            New-FakeUpdate -Title 'Sicherheitsupdate (KB5034129)' -Kb '5034129' -Classification @{ Name = 'Sicherheitsupdates'; CategoryID = '0FA1201D-4330-4FA8-8AE9-B877473B6441' }
            New-FakeUpdate -Title 'Feature on demand' -Classification @{ Name = 'Funktionspakete (neu)'; CategoryID = '11111111-2222-3333-4444-555555555555' }
        )
        $d = (Invoke-Catalog $m).Doc
        $d.data.updates[0].classification | Should -BeExactly 'Security Updates'
        $d.data.updates[1].classification | Should -BeExactly 'Funktionspakete (neu)'
    }

    It 'reports an update without KB, severity or release date with those fields absent or null' {
        $m = New-FakeMachine
        $m.Wua.Updates = @(New-FakeUpdate -Title 'Driver update' -Classification 'Drivers' -Released $null -RebootBehavior 7)
        $u = (Invoke-Catalog $m).Doc.data.updates[0]
        $u.PSObject.Properties['kb'] | Should -BeNullOrEmpty
        $u.severity | Should -BeNullOrEmpty
        $u.releaseDate | Should -BeNullOrEmpty
        $u.rebootBehavior | Should -BeExactly 'CanRequestReboot' -Because 'an unknown RebootBehavior may reboot'
    }

    It 'reports updates null with the HRESULT when the search fails (0x8024402C, no network)' {
        $m = New-OfferedMachine
        $m.Wua.Errors.Search = 0x8024402C
        $d = (Invoke-Catalog $m).Doc
        $d.data.updates | Should -BeNullOrEmpty
        $d.data.PSObject.Properties['updates'] | Should -Not -BeNullOrEmpty
        (Get-ScriptError $d 'updates').code | Should -BeExactly '0x8024402C'
    }

    It 'reports updates null with permission-denied when the WUA session is refused' {
        $m = New-OfferedMachine
        $m.Wua.Errors.CreateSession = 0x80070005
        $d = (Invoke-Catalog $m).Doc
        $d.data.updates | Should -BeNullOrEmpty
        (Get-ScriptError $d 'updates').code | Should -BeExactly 'permission-denied'
    }

    It 'accepts Simulate true (the encoder''s value) and still only searches' {
        $m = New-OfferedMachine
        $d = (Invoke-Catalog $m (Get-CaseParameters 'catalog.simulate')).Doc
        $d.data.simulate | Should -BeTrue
        @($d.data.updates).Count | Should -Be 3
        $d.errors.Count | Should -Be 0
    }

    It 'prints a catalog far larger than the 4 KB instance-view tail whole' {
        $m = New-FakeMachine
        $m.Wua.Updates = @(1..300 | ForEach-Object { New-FakeUpdate -Kb ('50{0:D5}' -f $_) -Title ('2026-01 Cumulative Update for Windows Server 2022 for x64-based Systems, package {0} (KB50{0:D5})' -f $_) })
        $run = Invoke-Catalog $m
        $run.Text.Length | Should -BeGreaterThan 4096
        @($run.Doc.data.updates).Count | Should -Be 300
    }

    It 'carries unicode titles exactly' {
        $m = New-FakeMachine
        $m.Wua.Updates = @(New-FakeUpdate -Title 'Kumulatives Update für Windows Server 2022 – Größe 中文 😀 (KB5034129)' -Kb '5034129')
        (Invoke-Catalog $m).Doc.data.updates[0].title | Should -BeExactly 'Kumulatives Update für Windows Server 2022 – Größe 中文 😀 (KB5034129)'
    }

    It 'carries every hostile string from the injection list as an inert title' {
        $m = New-FakeMachine
        $hostile = Get-HostileValues
        $m.Wua.Updates = @($hostile | ForEach-Object { New-FakeUpdate -Title $_ })
        $d = (Invoke-Catalog $m).Doc
        @($d.data.updates | ForEach-Object { $_.title }) | Should -Be $hostile
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }

    It 'cuts a title longer than the contract''s 2000 characters instead of failing the whole catalog' {
        $m = New-FakeMachine
        $m.Wua.Updates = @(New-FakeUpdate -Title ('Very long title ' * 200) -Kb '5034129')
        $d = (Invoke-Catalog $m).Doc
        $d.data.updates[0].title.Length | Should -Be 2000
        $d.data.updates[0].kb | Should -BeExactly 'KB5034129'
    }

    It 'refuses hostile Simulate value <i> without searching or echoing it' -ForEach $hostileCases {
        $m = New-OfferedMachine
        $run = Invoke-Catalog $m @(New-Parameter 'Simulate' $value)
        $d = $run.Doc
        $d.data.updates | Should -BeNullOrEmpty
        $e = Get-ScriptError $d 'parameters'
        $e.code | Should -BeExactly 'invalid-parameter'
        $e.message | Should -BeLike 'Simulate:*'
        $m.Wua.Calls.Count | Should -Be 0 -Because 'a refused parameter means nothing runs'
        if ($value.Length -gt 3) { $run.Text.Contains((ConvertTo-Json -InputObject $value -Compress).Trim('"')) | Should -BeFalse }
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
        Should -Invoke Invoke-Expression -Times 0 -Exactly
    }

    It 'refuses Simulate values the encoder never sends: <_>' -ForEach @('True', 'FALSE', '1', '', ' true', 'true\n') {
        $m = New-OfferedMachine
        $d = (Invoke-Catalog $m @(New-Parameter 'Simulate' $_.Replace('\n', "`n"))).Doc
        (Get-ScriptError $d 'parameters').message | Should -BeLike 'Simulate:*'
        $m.Wua.Calls.Count | Should -Be 0
    }
}
