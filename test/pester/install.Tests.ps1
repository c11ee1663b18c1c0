# install.ps1 (phase 05): installs exactly the requested WUA update ids and reports one outcome per id.
BeforeDiscovery {
    . $PSScriptRoot/ScriptRunner.ps1
    $hostileCases = Get-HostileCases
}

BeforeAll {
    . $PSScriptRoot/FakeWindows.ps1
    . $PSScriptRoot/ScriptRunner.ps1
    $script:Ids = @{
        cumulative = '8d3e1f0a-3b5c-4c7e-9a43-2f6b1d0c9e11'
        dotnet = '2a7c5e9d-6f1b-4e3a-8c2d-9b0e4f6a1c22'
        defender = 'e4b0c2d1-9a8f-4b7e-a6c5-d3e2f1a0b933'
        installed = '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e44'
    }
    function New-OfferedMachine {
        $m = New-FakeMachine
        $m.Wua.Updates = @(
            New-FakeUpdate -UpdateId $Ids.cumulative -Kb '5034129' -Severity 'Critical' -Title '2026-01 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5034129)'
            New-FakeUpdate -UpdateId $Ids.dotnet -Kb '5012346' -Severity 'Important' -Title '2026-01 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5012346)' -EulaAccepted $false
            New-FakeUpdate -UpdateId $Ids.defender -Kb '2267602' -Classification 'Definition Updates' -Title 'Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 (Version 1.403.1234.0)'
            New-FakeUpdate -UpdateId $Ids.installed -Kb '5032198' -IsInstalled $true -Title '2025-12 Servicing Stack Update (KB5032198)'
        )
        $m.Wua.Outcomes[$Ids.cumulative] = @{ ResultCode = 2; HResult = 0; RebootRequired = $true }
        return $m
    }
    function Invoke-Install {
        param([hashtable]$Machine, [object[]]$Parameters)
        return Invoke-OnFakeWindows 'install' $Machine $Parameters
    }
    function Get-Result { param($Doc, [string]$Id) return @($Doc.data.results | Where-Object { $_.updateId -eq $Id })[0] }
}

Describe 'install.ps1' {
    BeforeAll { Install-FakeWindows }

    It 'installs the requested updates and reports each outcome in request order' {
        $m = New-OfferedMachine
        $d = (Invoke-Install $m (Get-CaseParameters 'install.three')).Doc
        $d.errors.Count | Should -Be 0
        @($d.data.results | ForEach-Object { $_.updateId }) | Should -Be @($Ids.cumulative, $Ids.dotnet, $Ids.defender)
        @($d.data.results | ForEach-Object { $_.result }) | Should -Be @('Succeeded', 'Succeeded', 'Succeeded')
        $r = $d.data.results[0]
        $r.kb | Should -BeExactly 'KB5034129'
        $r.title | Should -BeLike '2026-01 Cumulative Update*'
        $r.resultCode | Should -Be 2
        $r.hresult | Should -Be 0
        $r.rebootRequired | Should -BeTrue
        $d.data.results[1].rebootRequired | Should -BeFalse
        $d.data.rebootRequired | Should -BeTrue -Because 'one update asks for a reboot'
        $m.Wua.Calls | Should -Contain 'Download'
        $m.Wua.Calls | Should -Contain ('Install:' + (@($Ids.cumulative, $Ids.dotnet, $Ids.defender) -join ','))
        $m.Wua.Updates[1].EulaAccepted | Should -BeTrue -Because 'the EULA of an update that has one is accepted before installing'
        Should -Invoke Restart-Computer -Times 0 -Exactly
    }

    It 'installs nothing on a re-run and reports AlreadyInstalled for each id (nothing to do)' {
        $m = New-OfferedMachine
        foreach ($u in $m.Wua.Updates) { $u.IsInstalled = $true }
        $d = (Invoke-Install $m (Get-CaseParameters 'install.three')).Doc
        @($d.data.results | ForEach-Object { $_.result }) | Should -Be @('AlreadyInstalled', 'AlreadyInstalled', 'AlreadyInstalled')
        $d.data.rebootRequired | Should -BeFalse
        @($m.Wua.Calls | Where-Object { $_ -like 'Install:*' -or $_ -eq 'Download' }) | Should -BeNullOrEmpty
    }

    It 'reports AlreadyInstalled, Succeeded and NotFound, and the id exactly as requested' {
        $m = New-OfferedMachine
        $d = (Invoke-Install $m (Get-CaseParameters 'install.mixed')).Doc
        $typed = Get-CaseTyped 'install.mixed'
        @($d.data.results | ForEach-Object { $_.updateId }) | Should -Be @($typed.updateIds)
        @($d.data.results | ForEach-Object { $_.result }) | Should -Be @('AlreadyInstalled', 'Succeeded', 'NotFound', 'Succeeded')
        $d.data.results[2].PSObject.Properties['kb'] | Should -BeNullOrEmpty
        $d.data.results[3].updateId | Should -BeExactly $Ids.dotnet.ToUpperInvariant()
    }

    It 'reports a failing update with its HResult (0x80070643) and result code, the others installed' {
        $m = New-OfferedMachine
        $m.Wua.Outcomes[$Ids.dotnet] = @{ ResultCode = 4; HResult = 0x80070643; RebootRequired = $false }
        $d = (Invoke-Install $m (Get-CaseParameters 'install.three')).Doc
        $r = Get-Result $d $Ids.dotnet
        $r.result | Should -BeExactly 'Failed'
        $r.resultCode | Should -Be 4
        $r.hresult | Should -Be -2147023293 -Because '0x80070643 (ERROR_INSTALL_FAILURE) as a signed 32-bit integer'
        (Get-Result $d $Ids.cumulative).result | Should -BeExactly 'Succeeded'
        $d.errors.Count | Should -Be 0 -Because 'a failed update is an outcome, not a script error'
    }

    It 'reports SucceededWithErrors and Aborted by their WUA result codes' {
        $m = New-OfferedMachine
        $m.Wua.Outcomes[$Ids.dotnet] = @{ ResultCode = 3; HResult = 0x80242014; RebootRequired = $true }
        $m.Wua.Outcomes[$Ids.defender] = @{ ResultCode = 5; HResult = 0x80240016; RebootRequired = $false }
        $d = (Invoke-Install $m (Get-CaseParameters 'install.three')).Doc
        (Get-Result $d $Ids.dotnet).result | Should -BeExactly 'SucceededWithErrors'
        (Get-Result $d $Ids.defender).result | Should -BeExactly 'Aborted'
        (Get-Result $d $Ids.defender).hresult | Should -Be -2145124330
    }

    It 'reports every id NotAttempted with the HRESULT when Install() itself fails (0x80240022)' {
        $m = New-OfferedMachine
        $m.Wua.Errors.Install = 0x80240022
        $d = (Invoke-Install $m (Get-CaseParameters 'install.three')).Doc
        @($d.data.results | ForEach-Object { $_.result }) | Should -Be @('NotAttempted', 'NotAttempted', 'NotAttempted')
        (Get-ScriptError $d 'results').code | Should -BeExactly '0x80240022'
    }

    It 'reports every id NotAttempted with the HRESULT when the search fails (0x8024402C)' {
        $m = New-OfferedMachine
        $m.Wua.Errors.Search = 0x8024402C
        $d = (Invoke-Install $m (Get-CaseParameters 'install.one')).Doc
        $d.data.results[0].result | Should -BeExactly 'NotAttempted'
        (Get-ScriptError $d 'results').code | Should -BeExactly '0x8024402C'
    }

    It 'reports NotAttempted and permission-denied when the WUA session is refused' {
        $m = New-OfferedMachine
        $m.Wua.Errors.CreateSession = 0x80070005
        $d = (Invoke-Install $m (Get-CaseParameters 'install.three')).Doc
        @($d.data.results).Count | Should -Be 3
        (Get-ScriptError $d 'results').code | Should -BeExactly 'permission-denied'
    }

    It 'with RebootMarker: leaves the run''s marker when a restart is needed (renamed into place) and removes it when none is' {
        $tmp = Join-Path $TestDrive 'marker-tmp'
        New-Item -ItemType Directory -Path $tmp -Force | Out-Null
        $previous = $env:TMPDIR
        $env:TMPDIR = $tmp
        try {
            $marker = Join-Path $tmp ('patchpilot-reboot-required-{0}' -f (Get-CaseTyped 'install.marker').rebootMarker)
            $d = (Invoke-Install (New-OfferedMachine) (Get-CaseParameters 'install.marker')).Doc
            $d.errors.Count | Should -Be 0
            $d.data.rebootRequired | Should -BeTrue
            Test-Path -LiteralPath $marker -PathType Leaf | Should -BeTrue
            @(Get-ChildItem -LiteralPath $tmp).Count | Should -Be 1 -Because 'the staged file was renamed into place, nothing else is left'
            $m = New-OfferedMachine
            $m.Wua.Outcomes.Clear()
            $d = (Invoke-Install $m (Get-CaseParameters 'install.marker')).Doc
            $d.data.rebootRequired | Should -BeFalse
            Test-Path -LiteralPath $marker | Should -BeFalse -Because 'a marker never outlives an install that needs no restart'
        } finally {
            $env:TMPDIR = $previous
        }
    }

    It 'reports rebootRequired from a pending-reboot signal even when no update asked for one' {
        $m = New-OfferedMachine
        $m.Wua.Outcomes.Clear()
        $m.Registry['HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'] = @{}
        $d = (Invoke-Install $m (Get-CaseParameters 'install.one')).Doc
        $d.data.results[0].rebootRequired | Should -BeFalse
        $d.data.rebootRequired | Should -BeTrue
    }

    It 'installs 200 updates and prints every result (far more than the 4 KB instance-view tail)' {
        $m = New-FakeMachine
        $typed = Get-CaseTyped 'install.max'
        $m.Wua.Updates = @($typed.updateIds | ForEach-Object { New-FakeUpdate -UpdateId $_ -Kb '5034129' -Title "2026-01 Cumulative Update for Windows Server 2022 ($_)" })
        $run = Invoke-Install $m (Get-CaseParameters 'install.max')
        $run.Text.Length | Should -BeGreaterThan 4096
        @($run.Doc.data.results | Where-Object { $_.result -eq 'Succeeded' }).Count | Should -Be 200
    }

    It 'carries unicode titles exactly' {
        $m = New-OfferedMachine
        $m.Wua.Updates[0].Title = 'Kumulatives Update für Windows – Größe 中文 😀 (KB5034129)'
        $d = (Invoke-Install $m (Get-CaseParameters 'install.one')).Doc
        $d.data.results[0].title | Should -BeExactly 'Kumulatives Update für Windows – Größe 中文 😀 (KB5034129)'
    }

    It 'cuts a title longer than the contract''s 2000 characters instead of failing the run''s evidence' {
        $m = New-OfferedMachine
        $m.Wua.Updates[0].Title = 'Very long title ' * 200
        $d = (Invoke-Install $m (Get-CaseParameters 'install.one')).Doc
        $d.data.results[0].title.Length | Should -Be 2000
        $d.data.results[0].result | Should -BeExactly 'Succeeded'
    }

    It 'refuses hostile UpdateIds value <i> without touching WUA or echoing it' -ForEach $hostileCases {
        $m = New-OfferedMachine
        $run = Invoke-Install $m @(New-Parameter 'UpdateIds' $value)
        $d = $run.Doc
        $run.Text | Should -Match '"results":\[\]'
        (Get-ScriptError $d 'parameters').code | Should -BeExactly 'invalid-parameter'
        (Get-ScriptError $d 'parameters').message | Should -BeLike 'UpdateIds:*'
        $m.Wua.Calls.Count | Should -Be 0
        Should -Invoke New-Object -ParameterFilter { $ComObject -like 'Microsoft.Update.*' } -Times 0 -Exactly -Scope It
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }

    It 'refuses a GUID list with <name> before anything is installed' -ForEach @(
        @{ name = 'a criteria injection after a GUID'; value = "8d3e1f0a-3b5c-4c7e-9a43-2f6b1d0c9e11' or IsInstalled=1 or UpdateID='x" }
        @{ name = 'a trailing newline'; value = "8d3e1f0a-3b5c-4c7e-9a43-2f6b1d0c9e11`n" }
        @{ name = 'one bad id among good ones'; value = '8d3e1f0a-3b5c-4c7e-9a43-2f6b1d0c9e11,KB5034129' }
        @{ name = 'nothing'; value = '' }
        @{ name = 'an empty item'; value = '8d3e1f0a-3b5c-4c7e-9a43-2f6b1d0c9e11,' }
        @{ name = '201 ids'; value = (@(1..201 | ForEach-Object { '8d3e1f0a-3b5c-4c7e-9a43-2f6b1d0c9e11' }) -join ',') }
    ) {
        $m = New-OfferedMachine
        $d = (Invoke-Install $m @(New-Parameter 'UpdateIds' $value)).Doc
        (Get-ScriptError $d 'parameters').message | Should -BeLike 'UpdateIds:*'
        @($d.data.results).Count | Should -Be 0
        $m.Wua.Calls.Count | Should -Be 0
    }
}
