# reboot.ps1 (phase 06): schedules a restart through shutdown.exe with a comment and a delay, and reports the boot
# time before it. shutdown.exe is a real executable on PATH here (a logging stub), so its argv is what a native
# process receives.
BeforeDiscovery {
    . $PSScriptRoot/ScriptRunner.ps1
    $hostileCases = Get-HostileCases
}

BeforeAll {
    . $PSScriptRoot/FakeWindows.ps1
    . $PSScriptRoot/ScriptRunner.ps1
    function Invoke-Reboot {
        param([hashtable]$Machine, [object[]]$Parameters)
        Clear-ShutdownCalls
        return Invoke-OnFakeWindows 'reboot' $Machine $Parameters
    }
}

Describe 'reboot.ps1' {
    BeforeAll {
        Install-FakeWindows
        Install-FakeShutdown
    }
    BeforeEach {
        $env:FAKE_SHUTDOWN_EXIT = '0'
        $env:FAKE_SHUTDOWN_MESSAGE = ''
    }

    It 'schedules the restart with shutdown.exe, the comment as one argument, and reports the boot before it' {
        $d = (Invoke-Reboot (New-FakeMachine) (Get-CaseParameters 'reboot')).Doc
        $d.errors.Count | Should -Be 0
        $d.data.scheduled | Should -BeTrue
        $d.data.method | Should -BeExactly 'shutdown.exe'
        $d.data.delaySeconds | Should -Be 60
        $d.data.bootTimeBefore | Should -BeExactly '2026-01-20T01:30:00Z' -Because 'LastBootUpTime is local time (Pacific/Auckland here)'
        $d.data.scheduledAt | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        $calls = Get-ShutdownCalls
        $calls.Count | Should -Be 1
        $calls[0] | Should -Be @('/r', '/t', '60', '/d', 'p:2:17', '/c', 'PatchPilot: PatchPilot run r20260120-6f1c2a9e (fabrikam/WIN-SERVER01)')
        Should -Invoke Restart-Computer -Times 0 -Exactly
    }

    It 'with RebootMarker and the install''s marker there: takes it (read once, removed) and schedules' {
        $tmp = Join-Path $TestDrive 'marker-tmp'
        New-Item -ItemType Directory -Path $tmp -Force | Out-Null
        $previous = $env:TMPDIR
        $env:TMPDIR = $tmp
        try {
            $marker = Join-Path $tmp ('patchpilot-reboot-required-{0}' -f (Get-CaseTyped 'reboot.marker').marker)
            [System.IO.File]::WriteAllText($marker, 'install')
            $d = (Invoke-Reboot (New-FakeMachine) (Get-CaseParameters 'reboot.marker')).Doc
            $d.errors.Count | Should -Be 0
            $d.data.scheduled | Should -BeTrue
            $d.data.requested | Should -BeTrue
            (Get-ShutdownCalls).Count | Should -Be 1
            Test-Path -LiteralPath $marker | Should -BeFalse
        } finally {
            $env:TMPDIR = $previous
        }
    }

    It 'with RebootMarker and no marker: schedules nothing, says not requested, and that is no error' {
        $tmp = Join-Path $TestDrive 'marker-none'
        New-Item -ItemType Directory -Path $tmp -Force | Out-Null
        $previous = $env:TMPDIR
        $env:TMPDIR = $tmp
        try {
            $d = (Invoke-Reboot (New-FakeMachine) (Get-CaseParameters 'reboot.marker')).Doc
            $d.errors.Count | Should -Be 0
            $d.data.scheduled | Should -BeFalse
            $d.data.requested | Should -BeFalse
            (Get-ShutdownCalls).Count | Should -Be 0
        } finally {
            $env:TMPDIR = $previous
        }
    }

    It 'schedules an immediate restart with an empty comment' {
        $d = (Invoke-Reboot (New-FakeMachine) (Get-CaseParameters 'reboot.now')).Doc
        $d.data.scheduled | Should -BeTrue
        $d.data.delaySeconds | Should -Be 0
        (Get-ShutdownCalls)[0] | Should -Be @('/r', '/t', '0', '/d', 'p:2:17', '/c', 'PatchPilot: ')
    }

    It 'accepts the largest delay and comment the encoder allows' {
        $typed = Get-CaseTyped 'reboot.max'
        $d = (Invoke-Reboot (New-FakeMachine) (Get-CaseParameters 'reboot.max')).Doc
        $d.data.scheduled | Should -BeTrue
        $d.data.delaySeconds | Should -Be 600
        (Get-ShutdownCalls)[0][6] | Should -BeExactly ('PatchPilot: ' + $typed.comment)
    }

    It 'passes a comment that looks like shutdown switches as the comment, not as switches' {
        $d = (Invoke-Reboot (New-FakeMachine) (Get-CaseParameters 'reboot.switches')).Doc
        $d.data.scheduled | Should -BeTrue
        $call = (Get-ShutdownCalls)[0]
        $call.Count | Should -Be 7
        $call[6] | Should -BeExactly 'PatchPilot: /r /t 0 /f /a'
        $call | Should -Not -Contain '/f'
    }

    It 'reports scheduled false with the exit code when a shutdown is already scheduled (1190)' {
        $env:FAKE_SHUTDOWN_EXIT = '1190'
        $env:FAKE_SHUTDOWN_MESSAGE = 'A system shutdown has already been scheduled.(1190)'
        $d = (Invoke-Reboot (New-FakeMachine) (Get-CaseParameters 'reboot')).Doc
        $d.data.scheduled | Should -BeFalse
        $e = Get-ScriptError $d 'scheduled'
        # Windows exit codes are 32-bit; a Linux process exits with the low 8 bits (1190 -> 166).
        $code = 1190 -band 0xFF
        $e.code | Should -BeExactly "exit-$code"
        $e.message | Should -BeLike "shutdown.exe exited ${code}: A system shutdown has already been scheduled.(1190)*"
    }

    It 'reports scheduled false when shutdown.exe is denied (exit 5, message on stderr)' {
        $env:FAKE_SHUTDOWN_EXIT = '5'
        $env:FAKE_SHUTDOWN_MESSAGE = 'Access is denied.(5)'
        $d = (Invoke-Reboot (New-FakeMachine) (Get-CaseParameters 'reboot')).Doc
        $d.data.scheduled | Should -BeFalse
        (Get-ScriptError $d 'scheduled').code | Should -BeExactly 'exit-5'
    }

    It 'still prints its document when shutdown.exe cannot be started at all' {
        $saved = $env:PATH
        try {
            $env:PATH = ($env:PATH -split [System.IO.Path]::PathSeparator | Where-Object { -not (Test-Path -LiteralPath (Join-Path $_ 'shutdown.exe')) }) -join [System.IO.Path]::PathSeparator
            $d = (Invoke-Reboot (New-FakeMachine) (Get-CaseParameters 'reboot')).Doc
        } finally {
            $env:PATH = $saved
        }
        $d.data.scheduled | Should -BeFalse
        (Get-ScriptError $d 'scheduled').code | Should -BeExactly 'not-available'
    }

    It 'does not schedule a restart when the boot time cannot be read (it could never be proven)' {
        $m = New-FakeMachine
        $m.CimErrors.Win32_OperatingSystem = [Microsoft.Management.Infrastructure.CimException]::new('Access denied ')
        $d = (Invoke-Reboot $m (Get-CaseParameters 'reboot')).Doc
        $d.data.scheduled | Should -BeFalse
        $d.data.bootTimeBefore | Should -BeExactly $d.data.scheduledAt
        (Get-ScriptError $d 'bootTimeBefore').code | Should -BeExactly 'CimException'
        (Get-ShutdownCalls).Count | Should -Be 0
    }

    It 'refuses hostile DelaySeconds value <i> and restarts nothing' -ForEach $hostileCases {
        $run = Invoke-Reboot (New-FakeMachine) @((New-Parameter 'DelaySeconds' $value), (New-Parameter 'Comment' 'ok'))
        $run.Doc.data.scheduled | Should -BeFalse
        (Get-ScriptError $run.Doc 'parameters').message | Should -BeLike 'DelaySeconds:*'
        (Get-ShutdownCalls).Count | Should -Be 0
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }

    It 'refuses hostile Comment value <i> and restarts nothing' -ForEach $hostileCases {
        $run = Invoke-Reboot (New-FakeMachine) @((New-Parameter 'DelaySeconds' '30'), (New-Parameter 'Comment' $value))
        $d = $run.Doc
        if ($value -cmatch '\A[A-Za-z0-9 ._:/()-]{0,200}\z') {
            # Plain text the encoder would send too: it is only ever the comment argument.
            $d.data.scheduled | Should -BeTrue
            (Get-ShutdownCalls)[0] | Should -Be @('/r', '/t', '30', '/d', 'p:2:17', '/c', "PatchPilot: $value")
        } else {
            $d.data.scheduled | Should -BeFalse
            (Get-ScriptError $d 'parameters').message | Should -BeLike 'Comment:*'
            (Get-ShutdownCalls).Count | Should -Be 0
            if ($value.Length -gt 3) { $run.Text.Contains((ConvertTo-Json -InputObject $value -Compress).Trim('"')) | Should -BeFalse }
        }
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }

    It 'refuses a <name> the encoder never sends' -ForEach @(
        @{ name = 'delay above 600'; delay = '601'; comment = 'x' }
        @{ name = 'negative delay'; delay = '-1'; comment = 'x' }
        @{ name = 'zero-padded delay'; delay = '007'; comment = 'x' }
        @{ name = 'delay with a space'; delay = '60 '; comment = 'x' }
        @{ name = 'delay in exponent form'; delay = '1e2'; comment = 'x' }
        @{ name = 'hex delay'; delay = '0x10'; comment = 'x' }
        @{ name = 'comment with a quote'; delay = '5'; comment = "it's" }
        @{ name = 'comment of 201 characters'; delay = '5'; comment = ('a' * 201) }
        @{ name = 'comment with a newline'; delay = '5'; comment = "a`nb" }
        @{ name = 'unicode comment'; delay = '5'; comment = 'Größe' }
    ) {
        $d = (Invoke-Reboot (New-FakeMachine) @((New-Parameter 'DelaySeconds' $delay), (New-Parameter 'Comment' $comment))).Doc
        $d.data.scheduled | Should -BeFalse
        (Get-ScriptError $d 'parameters').code | Should -BeExactly 'invalid-parameter'
        (Get-ShutdownCalls).Count | Should -Be 0
    }
}
