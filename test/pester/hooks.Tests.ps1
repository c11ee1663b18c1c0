# hooks.ps1 (phases 05 and 07): stops and starts services through Win32_Service (faked: StopService refuses a service
# whose dependents still run, as Windows answers 3) and waits for the state; runs MSP scripts in real child processes.
BeforeDiscovery {
    . $PSScriptRoot/ScriptRunner.ps1
    $hostileCases = Get-HostileCases
}

BeforeAll {
    . $PSScriptRoot/FakeWindows.ps1
    . $PSScriptRoot/ScriptRunner.ps1
    # pwsh on Linux has no Invoke-CimMethod; Mock needs a command to copy the parameters of.
    function global:Invoke-CimMethod {
        [CmdletBinding()]
        param([object]$InputObject, [string]$MethodName)
        throw 'Invoke-CimMethod is not faked'
    }
    function Invoke-Hooks {
        param([hashtable]$Machine, [object[]]$Parameters)
        return Invoke-OnFakeWindows 'hooks' $Machine $Parameters
    }
    # W3SVC depends on MSSQLSERVER here: MSSQLSERVER cannot stop while W3SVC runs, W3SVC cannot start without it.
    function New-ServiceMachine {
        $m = New-FakeMachine
        $m.DependsOn = @{ W3SVC = @('MSSQLSERVER') }
        $m.ServiceCalls = New-Object System.Collections.ArrayList
        return $m
    }
}

Describe 'hooks.ps1' {
    BeforeAll {
        Install-FakeWindows
        Mock Invoke-CimMethod {
            $m = $global:FakeMachine
            [void]$m.ServiceCalls.Add(('{0} {1}' -f $MethodName, $InputObject.Name))
            $services = @($m.Cim.Win32_Service)
            $code = 0
            if ($MethodName -eq 'StopService') {
                $dependents = @($services | Where-Object { $_.State -eq 'Running' -and @($m.DependsOn[$_.Name]) -contains $InputObject.Name })
                if ($dependents.Count -gt 0) { $code = 3 } else { $InputObject.State = 'Stopped' }
            } else {
                $needs = @($m.DependsOn[$InputObject.Name] | Where-Object { $_ })
                $down = @($services | Where-Object { $needs -contains $_.Name -and $_.State -ne 'Running' })
                if ($InputObject.State -eq 'Running') { $code = 10 } elseif ($down.Count -gt 0) { $code = 13 } else { $InputObject.State = 'Running' }
            }
            [pscustomobject]@{ ReturnValue = [uint32]$code }
        }
    }

    It 'stops dependents first, runs the maintenance script, starts in reverse order and verifies each state' {
        $m = New-ServiceMachine
        $d = (Invoke-Hooks $m (Get-CaseParameters 'hooks.cycle')).Doc
        $d.errors.Count | Should -Be 0
        @($d.data.actions | ForEach-Object { '{0} {1} {2} {3}' -f $_.kind, $_.target, $_.ok, $_.state }) | Should -Be @(
            'stop W3SVC True Stopped', 'stop MSSQLSERVER True Stopped', 'script maintenance-on True ',
            'start MSSQLSERVER True Running', 'start W3SVC True Running')
        $d.data.actions[2].exitCode | Should -Be 0
        @($m.ServiceCalls) | Should -Be @('StopService W3SVC', 'StopService MSSQLSERVER', 'StartService MSSQLSERVER', 'StartService W3SVC')
        @($m.Cim.Win32_Service | Where-Object { $_.Name -eq 'W3SVC' })[0].State | Should -BeExactly 'Running'
    }

    It 'reports a refused stop (dependents running), a missing service and a failing script, and still runs every action' {
        $m = New-ServiceMachine
        $d = (Invoke-Hooks $m (Get-CaseParameters 'hooks.wrongOrder')).Doc
        $a = @($d.data.actions)
        $a.Count | Should -Be 3
        $a[0].ok | Should -BeFalse
        $a[0].state | Should -BeExactly 'Running'
        $a[0].detail | Should -BeLike 'StopService returned 3 (other running services depend on it)*'
        $a[1].ok | Should -BeFalse
        $a[1].detail | Should -BeExactly 'service not found'
        $a[2].ok | Should -BeFalse
        $a[2].exitCode | Should -Be 7
    }

    It 'refuses a list with one bad record whole, before any action runs' {
        $m = New-ServiceMachine
        $ok = [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes('stop')) + '.' + [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes('W3SVC')) + '.' + [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes('5')) + '.'
        $d = (Invoke-Hooks $m @(New-Parameter 'Actions' ($ok + ',bad!'))).Doc
        $d.data.actions | Should -BeNullOrEmpty
        (Get-ErrorSections $d) | Should -Be @('parameters')
        @($m.ServiceCalls).Count | Should -Be 0
    }

    It 'refuses hostile value <i> as the action list without evaluating it' -ForEach $hostileCases {
        $d = (Invoke-Hooks (New-ServiceMachine) @(New-Parameter 'Actions' $value)).Doc
        if ($value -cnotmatch '\A[A-Za-z0-9+/=.,]*\z') { (Get-ErrorSections $d) | Should -Be @('parameters') }
        Test-Path -LiteralPath $global:PatchPilotFixtures.marker | Should -BeFalse
    }
}
