# validate.ps1 (phases 04 and 08): runs the AppValidationPolicy checks it is given and reports every attempt.
# HTTP and TCP checks are real: they reach a local HTTP server the Jest side runs (healthy, 503, 302, never answers)
# and a port nothing listens on. Services, processes and the event log are faked.
BeforeDiscovery {
    . $PSScriptRoot/ScriptRunner.ps1
    $hostileCases = Get-HostileCases
}

BeforeAll {
    . $PSScriptRoot/FakeWindows.ps1
    . $PSScriptRoot/ScriptRunner.ps1
    function New-AppMachine {
        $m = New-FakeMachine
        $m.Processes = @([pscustomobject]@{ ProcessName = 'sqlservr'; Id = 4012 }, [pscustomobject]@{ ProcessName = 'w3wp'; Id = 5120 })
        return $m
    }
    function Invoke-Validate {
        param([hashtable]$Machine, [object[]]$Parameters)
        return Invoke-OnFakeWindows 'validate' $Machine $Parameters
    }
    function Get-Check { param($Doc, [string]$Name) return @($Doc.data.results | Where-Object { $_.check -eq $Name })[0] }
    # A Checks value from raw fields (for lists the encoder would never produce).
    function ConvertTo-RawChecks {
        param([object[]]$Records)
        $encoded = foreach ($fields in $Records) { (@($fields | ForEach-Object { [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes([string]$_)) }) -join '.') }
        return (@($encoded) -join ',')
    }
}

Describe 'validate.ps1' {
    BeforeAll { Install-FakeWindows }

    It 'runs every kind of check and reports each as passed with its attempt' {
        $d = (Invoke-Validate (New-AppMachine) (Get-CaseParameters 'validate.all')).Doc
        $d.errors.Count | Should -Be 0
        $typed = Get-CaseTyped 'validate.all'
        @($d.data.results | ForEach-Object { $_.check }) | Should -Be @($typed.checks | ForEach-Object { $_.check.name })
        foreach ($r in $d.data.results) {
            $r.success | Should -BeTrue -Because "$($r.check): $($r.attempts[0].detail)"
            @($r.attempts).Count | Should -Be 1
            $r.attempts[0].at | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        }
        (Get-Check $d 'home').attempts[0].detail | Should -BeExactly 'HTTP 200'
        (Get-Check $d 'home').type | Should -BeExactly 'http'
        (Get-Check $d 'engine').attempts[0].detail | Should -BeExactly 'State=Running, expected Running'
        (Get-Check $d 'agent-off').attempts[0].detail | Should -BeExactly 'service not found'
        (Get-Check $d 'sqlservr').attempts[0].detail | Should -BeExactly '1 running, at least 1 expected'
        (Get-Check $d 'no-crashes').attempts[0].detail | Should -BeLike '0 matching events*'
        $d.data.startedAt | Should -Match 'Z$'
        $d.data.finishedAt | Should -Match 'Z$'
    }

    It 'reports [] for an empty check list (nothing to do)' {
        $run = Invoke-Validate (New-AppMachine) (Get-CaseParameters 'validate.none')
        $run.Text | Should -Match '"results":\[\]'
        $run.Doc.errors.Count | Should -Be 0
    }

    It 'reports failing checks with every attempt and why each failed' {
        $m = New-AppMachine
        $m.Cim.Win32_Service[2].State = 'Stopped'
        $m.Events = @(New-FakeEvent -LogName 'Application' -ProviderName 'Application Error' -Id 1000 -TimeUtc ([datetime]::UtcNow.AddMinutes(-5)) -Message 'Faulting application name: w3wp.exe')
        $d = (Invoke-Validate $m (Get-CaseParameters 'validate.failing')).Doc
        $d.errors.Count | Should -Be 0 -Because 'a failing check is a result, not a script error'
        @($d.data.results | Where-Object { $_.success }) | Should -BeNullOrEmpty
        $down = Get-Check $d 'down'
        @($down.attempts).Count | Should -Be 3
        $down.attempts[2].detail | Should -BeExactly 'HTTP 503, expected one of: 200'
        (Get-Check $d 'text').attempts[0].detail | Should -BeExactly 'HTTP 200, body does not contain the expected text'
        (Get-Check $d 'moved').attempts[0].detail | Should -BeLike 'HTTP 302*' -Because 'redirects are not followed'
        (Get-Check $d 'engine').attempts[0].detail | Should -BeExactly 'State=Stopped, expected Running'
        (Get-Check $d 'missing').attempts[0].detail | Should -BeExactly 'service not found'
        (Get-Check $d 'closed').attempts[0].detail | Should -BeLike 'connection failed:*'
        (Get-Check $d 'two').attempts[0].detail | Should -BeExactly '1 running, at least 2 expected'
        (Get-Check $d 'crashes').attempts[0].detail | Should -BeLike '1 matching events in the last 60 min, at most 0 allowed'
        (Get-Check $d 'bash').attempts[0].detail | Should -BeExactly 'bash scripts do not run on Windows'
    }

    It 'ends an attempt at the check''s timeout when the server never answers (timeout path)' {
        $d = (Invoke-Validate (New-AppMachine) (Get-CaseParameters 'validate.timeout')).Doc
        $r = Get-Check $d 'hangs'
        $r.success | Should -BeFalse
        @($r.attempts).Count | Should -Be 2
        $r.attempts[0].detail | Should -BeLike 'request failed:*time*'
    }

    It 'waits the settle time before every attempt' {
        $m = New-AppMachine
        $m.Cim.Win32_Service[2].State = 'Stopped'
        $d = (Invoke-Validate $m (Get-CaseParameters 'validate.settle')).Doc
        @((Get-Check $d 'engine').attempts).Count | Should -Be 3
        Should -Invoke Start-Sleep -ParameterFilter { $Seconds -eq 90 } -Times 3 -Exactly -Scope It
    }

    It 'stops at the first passing attempt' {
        $m = New-AppMachine
        $d = (Invoke-Validate $m (Get-CaseParameters 'validate.settle')).Doc
        (Get-Check $d 'engine').success | Should -BeTrue
        @((Get-Check $d 'engine').attempts).Count | Should -Be 1
    }

    It 'reports a check whose Windows surface refuses access as failed, with why' {
        $m = New-AppMachine
        $m.CimErrors.Win32_Service = [Microsoft.Management.Infrastructure.CimException]::new('Access denied ')
        $m.EventError = [System.UnauthorizedAccessException]::new('Attempted to perform an unauthorized operation.')
        $d = (Invoke-Validate $m (Get-CaseParameters 'validate.all')).Doc
        (Get-Check $d 'engine').success | Should -BeFalse
        (Get-Check $d 'engine').attempts[0].detail | Should -BeLike 'check failed: Access denied*'
        (Get-Check $d 'no-crashes').success | Should -BeFalse
        (Get-Check $d 'no-crashes').attempts[0].detail | Should -BeLike 'event log query failed:*'
        (Get-Check $d 'home').success | Should -BeTrue
    }

    It 'carries unicode app and check names exactly' {
        $m = New-AppMachine
        $m.Cim.Win32_Service = @([pscustomobject]@{ Name = 'Spooler-ü'; State = 'Running'; StartMode = 'Auto' })
        $d = (Invoke-Validate $m (Get-CaseParameters 'validate.unicode')).Doc
        $d.data.results[0].app | Should -BeExactly 'Zahlungsdienst Größe ✓ 中文'
        $d.data.results[0].check | Should -BeExactly 'Dienst läuft 😀'
        $d.data.results[0].success | Should -BeTrue
    }

    It 'carries every hostile string from the injection list as inert app and check names' {
        $d = (Invoke-Validate (New-AppMachine) (Get-CaseParameters 'validate.hostileNames')).Doc
        $typed = Get-CaseTyped 'validate.hostileNames'
        @($d.data.results | ForEach-Object { $_.app }) | Should -Be @($typed.checks | ForEach-Object { $_.app })
        @($d.data.results | ForEach-Object { $_.check }) | Should -Be @($typed.checks | ForEach-Object { $_.check.name })
        @($d.data.results | Where-Object { -not $_.success }) | Should -BeNullOrEmpty
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }

    It 'treats hostile text inside valid checks as data: never executed, at most a failed check' {
        # Names may not hold line breaks (the script refuses those); everything else of the list goes in.
        $p = ((@(Get-HostileValues) -join ' ') -replace '[\x00-\x1f]', ' ') * 3
        $port = [string]$PatchPilotFixtures.http.closedPort
        $checks = ConvertTo-RawChecks @(
            , @('a', 'svc', 'service', '1', '0', '2', $p.Substring(0, 256), 'Running')
            , @('a', 'proc', 'process', '1', '0', '2', $p.Substring(0, 256), '1')
            , @('a', 'ev', 'eventlog', '1', '0', '2', $p.Substring(0, 256), $p.Substring(0, 256), '', 'Error', '5', '0')
            , @('a', 'web', 'http', '1', '0', '2', ($PatchPilotFixtures.http.base + '/' + [uri]::EscapeDataString($p.Substring(0, 200))), 'GET', '200', $p.Substring(0, 1000))
            , @('a', 'tcp', 'tcp', '1', '0', '1', '127.0.0.1', $port)
        )
        $d = (Invoke-Validate (New-AppMachine) @(New-Parameter 'Checks' $checks)).Doc
        $d.errors.Count | Should -Be 0 -Because (ConvertTo-Json -InputObject @($d.errors) -Compress)
        @($d.data.results).Count | Should -Be 5
        @($d.data.results | ForEach-Object { $_.success }) | Should -Be @($false, $false, $true, $false, $false)
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
        Should -Invoke Invoke-Expression -Times 0 -Exactly -Scope It
    }

    It 'prints 100 checks with their attempts whole (far more than the 4 KB instance-view tail)' {
        $run = Invoke-Validate (New-AppMachine) (Get-CaseParameters 'validate.many')
        $run.Text.Length | Should -BeGreaterThan 4096
        @($run.Doc.data.results).Count | Should -Be 100
        @($run.Doc.data.results | ForEach-Object { @($_.attempts).Count } | Sort-Object -Unique) | Should -Be @(2)
    }

    It 'accepts the large counts the policy schema allows (minCount, maxCount)' {
        $m = New-AppMachine
        $d = (Invoke-Validate $m (Get-CaseParameters 'validate.bigCounts')).Doc
        $d.errors.Count | Should -Be 0
        (Get-Check $d 'workers').success | Should -BeFalse
        (Get-Check $d 'workers').attempts[0].detail | Should -BeExactly '1 running, at least 1000000 expected'
        (Get-Check $d 'noisy').success | Should -BeTrue
    }

    It 'refuses a check type in the wrong case (TCP) instead of running it as another type' {
        $d = (Invoke-Validate (New-AppMachine) (Get-CaseParameters 'validate.upperType')).Doc
        (Get-ScriptError $d 'parameters').message | Should -BeExactly 'Checks: check 0: invalid field type'
        @($d.data.results).Count | Should -Be 0
    }

    It 'refuses hostile Checks value <i> and runs no check' -ForEach $hostileCases {
        $run = Invoke-Validate (New-AppMachine) @(New-Parameter 'Checks' $value)
        $d = $run.Doc
        (Get-ScriptError $d 'parameters').message | Should -BeLike 'Checks:*'
        $run.Text | Should -Match '"results":\[\]'
        Should -Invoke Get-CimInstance -Times 0 -Exactly -Scope It
        Should -Invoke Get-WinEvent -Times 0 -Exactly -Scope It
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }

    It 'refuses the whole list when one record is <name>' -ForEach @(
        @{ name = 'not base64'; raw = 'QUJD.QUJ'; fields = $null }
        @{ name = 'short of fields'; raw = 'QQ==.Qg==.dGNw'; fields = $null }
        @{ name = 'an unknown type'; raw = $null; fields = @('a', 'b', 'ldap', '1', '0', '2', 'x', 'y') }
        @{ name = 'a port out of range'; raw = $null; fields = @('a', 'b', 'tcp', '1', '0', '2', '127.0.0.1', '65536') }
        @{ name = 'a non-http url'; raw = $null; fields = @('a', 'b', 'http', '1', '0', '2', 'file:///etc/passwd', 'GET', '200', '') }
        @{ name = 'a POST method'; raw = $null; fields = @('a', 'b', 'http', '1', '0', '2', 'http://127.0.0.1/', 'POST', '200', '') }
        @{ name = 'eleven attempts'; raw = $null; fields = @('a', 'b', 'tcp', '11', '0', '2', '127.0.0.1', '80') }
        @{ name = 'a host with a space'; raw = $null; fields = @('a', 'b', 'tcp', '1', '0', '2', '127.0.0.1 -p 1', '80') }
    ) {
        if ($null -eq $raw) { $raw = ConvertTo-RawChecks @(, $fields) }
        $good = ConvertTo-RawChecks @(, @('a', 'ok', 'service', '1', '0', '2', 'W3SVC', 'Running'))
        $d = (Invoke-Validate (New-AppMachine) @(New-Parameter 'Checks' "$good,$raw")).Doc
        (Get-ScriptError $d 'parameters').message | Should -BeLike 'Checks: check 1:*'
        @($d.data.results).Count | Should -Be 0 -Because 'every record is validated before any check runs'
    }
}
