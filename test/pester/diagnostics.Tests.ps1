# diagnostics.ps1 (phase 09): event-log errors since the run started, Windows Update errors and disk space.
BeforeDiscovery {
    . $PSScriptRoot/ScriptRunner.ps1
    $hostileCases = Get-HostileCases
}

BeforeAll {
    . $PSScriptRoot/FakeWindows.ps1
    . $PSScriptRoot/ScriptRunner.ps1
    # The run started 2026-01-20T02:00:00Z (the 'diagnostics' case's SinceUtc).
    $script:Since = [datetime]::new(2026, 1, 20, 2, 0, 0, [DateTimeKind]::Utc)
    function New-EventfulMachine {
        $m = New-FakeMachine
        $m.Events = @(
            New-FakeEvent -LogName 'System' -ProviderName 'Service Control Manager' -Id 7031 -Level 2 -TimeUtc $Since.AddMinutes(30) -Message 'The SQL Server (MSSQLSERVER) service terminated unexpectedly.'
            New-FakeEvent -LogName 'Application' -ProviderName 'Application Error' -Id 1000 -Level 2 -TimeUtc $Since.AddMinutes(45) -Message 'Faulting application name: w3wp.exe'
            New-FakeEvent -LogName 'System' -ProviderName 'Microsoft-Windows-Kernel-Power' -Id 41 -Level 1 -TimeUtc $Since.AddMinutes(50) -Message 'The system has rebooted without cleanly shutting down first.'
            New-FakeEvent -LogName 'System' -ProviderName 'Service Control Manager' -Id 7036 -Level 4 -TimeUtc $Since.AddMinutes(51) -Message 'Information, not an error'
            New-FakeEvent -LogName 'System' -ProviderName 'Service Control Manager' -Id 7031 -Level 2 -TimeUtc $Since.AddMinutes(-1) -Message 'Before the run started'
            New-FakeEvent -LogName 'System' -ProviderName 'Microsoft-Windows-WindowsUpdateClient' -Id 20 -Level 2 -TimeUtc $Since.AddMinutes(40) -Message 'Installation Failure: Windows failed to install the following update with error 0x80070643: 2026-01 Cumulative Update for .NET Framework (KB5012346).'
            New-FakeEvent -LogName 'System' -ProviderName 'Microsoft-Windows-WindowsUpdateClient' -Id 25 -Level 3 -TimeUtc $Since.AddMinutes(41) -Message 'Windows Update failed to check for updates with error 0x8024402C.'
        )
        $m.Wua.History = @(
            New-FakeHistoryEntry -Title '2026-01 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5012346)' -Date ([datetime]::new(2026, 1, 20, 2, 40, 0)) -ResultCode 4 -HResult 0x80070643
            New-FakeHistoryEntry -Title '2026-01 Cumulative Update (KB5034129)' -Date ([datetime]::new(2026, 1, 20, 2, 35, 0)) -ResultCode 2
            New-FakeHistoryEntry -Title 'Aborted update (KB5011111)' -Date ([datetime]::new(2026, 1, 20, 2, 36, 0)) -ResultCode 5 -HResult 0x80240016
            New-FakeHistoryEntry -Title 'Failed last month (KB5000000)' -Date ([datetime]::new(2025, 12, 10, 3, 0, 0)) -ResultCode 4 -HResult 0x80070643
        )
        return $m
    }
    function Invoke-Diagnostics {
        param([hashtable]$Machine, [object[]]$Parameters = (Get-CaseParameters 'diagnostics'))
        return Invoke-OnFakeWindows 'diagnostics' $Machine $Parameters
    }
}

Describe 'diagnostics.ps1' {
    BeforeAll { Install-FakeWindows }

    It 'reports errors since the run started, update-agent errors with HResults, and disks' {
        $d = (Invoke-Diagnostics (New-EventfulMachine)).Doc
        $d.errors.Count | Should -Be 0
        $d.data.collectedAt | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        $ids = @($d.data.eventLogErrors | ForEach-Object { '{0}/{1}' -f $_.log, $_.id })
        $ids | Should -Contain 'System/7031'
        $ids | Should -Contain 'Application/1000'
        $ids | Should -Contain 'System/41'
        $ids | Should -Not -Contain 'System/7036' -Because 'information events are not errors'
        @($d.data.eventLogErrors | Where-Object { $_.message -eq 'Before the run started' }) | Should -BeNullOrEmpty
        $power = @($d.data.eventLogErrors | Where-Object { $_.id -eq 41 })[0]
        $power.level | Should -BeExactly 'Critical'
        $power.source | Should -BeExactly 'Microsoft-Windows-Kernel-Power'
        $power.time | Should -BeExactly '2026-01-20T02:50:00Z' -Because 'TimeCreated is local time; the device is in Pacific/Auckland'
        $agent = @($d.data.updateAgentErrors)
        @($agent | ForEach-Object { $_.message }) | Should -Contain 'Windows Update failed to check for updates with error 0x8024402C.'
        $failed = @($agent | Where-Object { $_.message -like '*KB5012346*' -and $_.PSObject.Properties['hresult'] })[0]
        $failed.hresult | Should -Be -2147023293
        $failed.time | Should -BeExactly '2026-01-20T02:40:00Z' -Because 'WUA history dates are UTC'
        @($agent | Where-Object { $_.message -like '*KB5011111*' })[0].hresult | Should -Be -2145124330
        @($agent | Where-Object { $_.message -like '*KB5034129*' }) | Should -BeNullOrEmpty -Because 'a succeeded install is not an error'
        @($agent | Where-Object { $_.message -like '*KB5000000*' }) | Should -BeNullOrEmpty -Because 'it failed before the run started'
        @($d.data.disks).Count | Should -Be 1
    }

    It 'counts services that terminated unexpectedly since boot (SCM 7031/7034) by their param1 name' {
        $m = New-FakeMachine
        # The fake machine booted 2026-01-20T01:30:00Z.
        $m.Events = @(
            New-FakeEvent -Id 7031 -TimeUtc $Since.AddMinutes(10) -Properties @('SQL Server (MSSQLSERVER)', '1')
            New-FakeEvent -Id 7031 -TimeUtc $Since.AddMinutes(12) -Properties @('SQL Server (MSSQLSERVER)', '2')
            New-FakeEvent -Id 7034 -TimeUtc $Since.AddMinutes(20) -Properties @('Print Spooler', '1')
            New-FakeEvent -Id 7031 -TimeUtc $Since.AddHours(-2) -Properties @('SQL Server (MSSQLSERVER)', '1')
            New-FakeEvent -Id 7036 -Level 4 -TimeUtc $Since.AddMinutes(13) -Properties @('SQL Server (MSSQLSERVER)', 'running')
        )
        $d = (Invoke-Diagnostics $m).Doc
        $d.errors.Count | Should -Be 0
        $restarts = @($d.data.serviceRestarts)
        $restarts.Count | Should -Be 2
        @($restarts | Where-Object { $_.service -eq 'SQL Server (MSSQLSERVER)' })[0].restarts | Should -Be 2 -Because 'the one before the boot does not count'
        @($restarts | Where-Object { $_.service -eq 'Print Spooler' })[0].restarts | Should -Be 1
    }

    It 'reports serviceRestarts as [] with no crash and null with the reason when the event log refuses access' {
        $run = Invoke-Diagnostics (New-FakeMachine)
        $run.Text | Should -Match '"serviceRestarts":\[\]'
        $m = New-FakeMachine
        $m.EventError = [System.UnauthorizedAccessException]::new('Attempted to perform an unauthorized operation.')
        $d = (Invoke-Diagnostics $m).Doc
        $d.data.serviceRestarts | Should -BeNullOrEmpty
        (Get-ScriptError $d 'serviceRestarts').code | Should -BeExactly 'permission-denied'
    }

    It 'reports [] (not null) when there is nothing to report' {
        $run = Invoke-Diagnostics (New-FakeMachine)
        $run.Doc.errors.Count | Should -Be 0
        $run.Text | Should -Match '"eventLogErrors":\[\]'
        $run.Text | Should -Match '"updateAgentErrors":\[\]'
    }

    It 'reports at most MaxEvents per section' {
        $m = New-EventfulMachine
        $m.Events += @(1..20 | ForEach-Object { New-FakeEvent -TimeUtc $Since.AddSeconds($_) -Id (7000 + $_) })
        $d = (Invoke-Diagnostics $m (Get-CaseParameters 'diagnostics.two')).Doc
        @($d.data.eventLogErrors).Count | Should -Be 2
        @($d.data.updateAgentErrors).Count | Should -Be 2
    }

    It 'accepts a SinceUtc with fractions of a second' {
        $d = (Invoke-Diagnostics (New-EventfulMachine) (Get-CaseParameters 'diagnostics.fraction')).Doc
        $d.errors.Count | Should -Be 0
        @($d.data.eventLogErrors).Count | Should -Be 4 -Because 'three errors and the WindowsUpdateClient error are in System/Application after the start'
    }

    It 'reports a message that cannot be rendered (provider gone) as empty, not as a failure' {
        $m = New-FakeMachine
        $m.Events = @(New-FakeEvent -TimeUtc $Since.AddMinutes(5) -Message { throw [System.Diagnostics.Eventing.Reader.EventLogException]::new('The description for Event ID 7031 cannot be found') })
        $d = (Invoke-Diagnostics $m).Doc
        $d.errors.Count | Should -Be 0
        $d.data.eventLogErrors[0].message | Should -BeExactly ''
    }

    It 'reports both event sections null with permission-denied when the event log refuses access' {
        $m = New-EventfulMachine
        $m.EventError = [System.UnauthorizedAccessException]::new('Attempted to perform an unauthorized operation.')
        $d = (Invoke-Diagnostics $m).Doc
        $d.data.eventLogErrors | Should -BeNullOrEmpty
        $d.data.updateAgentErrors | Should -BeNullOrEmpty
        (Get-ScriptError $d 'eventLogErrors').code | Should -BeExactly 'permission-denied'
        (Get-ScriptError $d 'updateAgentErrors').code | Should -BeExactly 'permission-denied'
        @($d.data.disks).Count | Should -Be 1 -Because 'the other sections still report'
    }

    It 'reports updateAgentErrors null with the HRESULT when WUA history fails' {
        $m = New-EventfulMachine
        $m.Wua.Errors.History = 0x8024001E
        $d = (Invoke-Diagnostics $m).Doc
        $d.data.updateAgentErrors | Should -BeNullOrEmpty
        (Get-ScriptError $d 'updateAgentErrors').code | Should -BeExactly '0x8024001E'
        @($d.data.eventLogErrors).Count | Should -Be 4
    }

    It 'reports disks null when WMI refuses, and the event sections still report' {
        $m = New-EventfulMachine
        $m.CimErrors.Win32_LogicalDisk = [Microsoft.Management.Infrastructure.CimException]::new('Access denied ')
        $d = (Invoke-Diagnostics $m).Doc
        $d.data.disks | Should -BeNullOrEmpty
        Get-ErrorSections $d | Should -Be @('disks')
    }

    It 'prints a document far larger than the 4 KB instance-view tail whole, each message cut at 2000 characters' {
        $m = New-FakeMachine
        $m.Events = @(1..100 | ForEach-Object { New-FakeEvent -TimeUtc $Since.AddSeconds($_) -Message ('Faulting module ' * 300) })
        $run = Invoke-Diagnostics $m
        $run.Text.Length | Should -BeGreaterThan 100000
        @($run.Doc.data.eventLogErrors).Count | Should -Be 100
        @($run.Doc.data.eventLogErrors | Where-Object { $_.message.Length -ne 2000 }) | Should -BeNullOrEmpty
    }

    It 'carries unicode messages exactly' {
        $m = New-FakeMachine
        $m.Events = @(New-FakeEvent -TimeUtc $Since.AddMinutes(1) -ProviderName 'Dienststeuerung' -Message 'Der Dienst "Größe 中文 😀" wurde unerwartet beendet.')
        $d = (Invoke-Diagnostics $m).Doc
        $d.data.eventLogErrors[0].message | Should -BeExactly 'Der Dienst "Größe 中文 😀" wurde unerwartet beendet.'
        $d.data.eventLogErrors[0].source | Should -BeExactly 'Dienststeuerung'
    }

    It 'carries every hostile string from the injection list as inert event data' {
        $m = New-FakeMachine
        $hostile = Get-HostileValues
        $m.Events = @(for ($i = 0; $i -lt $hostile.Count; $i++) { New-FakeEvent -TimeUtc $Since.AddMinutes($i + 1) -ProviderName $hostile[$i] -Message $hostile[$i] })
        $d = (Invoke-Diagnostics $m (Get-CaseParameters 'diagnostics.fraction')).Doc
        $messages = @($d.data.eventLogErrors | ForEach-Object { $_.message })
        foreach ($h in $hostile) { $messages | Should -Contain $h }
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }

    It 'refuses hostile SinceUtc value <i> and reads no event log' -ForEach $hostileCases {
        $m = New-EventfulMachine
        $run = Invoke-Diagnostics $m @((New-Parameter 'SinceUtc' $value), (New-Parameter 'MaxEvents' '10'))
        $d = $run.Doc
        $d.data.eventLogErrors | Should -BeNullOrEmpty
        $d.data.updateAgentErrors | Should -BeNullOrEmpty
        (Get-ScriptError $d 'parameters').message | Should -BeLike 'SinceUtc:*'
        Should -Invoke Get-WinEvent -Times 0 -Exactly -Scope It
        @($d.data.disks).Count | Should -Be 1
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }

    It 'refuses hostile MaxEvents value <i> and reads no event log' -ForEach $hostileCases {
        $m = New-EventfulMachine
        $d = (Invoke-Diagnostics $m @((New-Parameter 'SinceUtc' '2026-01-20T02:00:00Z'), (New-Parameter 'MaxEvents' $value))).Doc
        (Get-ScriptError $d 'parameters').message | Should -BeLike 'MaxEvents:*'
        Should -Invoke Get-WinEvent -Times 0 -Exactly -Scope It
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }

    It 'refuses a <name> the encoder never sends' -ForEach @(
        @{ name = 'local time without Z'; sinceValue = '2026-01-20T02:00:00'; maxValue = '10' }
        @{ name = 'time with an offset'; sinceValue = '2026-01-20T02:00:00+01:00'; maxValue = '10' }
        @{ name = 'date only'; sinceValue = '2026-01-20'; maxValue = '10' }
        @{ name = 'SinceUtc with a trailing newline'; sinceValue = "2026-01-20T02:00:00Z`n"; maxValue = '10' }
        @{ name = 'MaxEvents 0'; sinceValue = '2026-01-20T02:00:00Z'; maxValue = '0' }
        @{ name = 'MaxEvents 501'; sinceValue = '2026-01-20T02:00:00Z'; maxValue = '501' }
    ) {
        $d = (Invoke-Diagnostics (New-EventfulMachine) @((New-Parameter 'SinceUtc' $sinceValue), (New-Parameter 'MaxEvents' $maxValue))).Doc
        (Get-ScriptError $d 'parameters').code | Should -BeExactly 'invalid-parameter'
        $d.data.eventLogErrors | Should -BeNullOrEmpty
    }
}
