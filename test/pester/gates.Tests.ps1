# gates.ps1 (phase 04, read-only first stage): runs the MSP's probe scripts (backup provider, custom checks) in child
# processes and reports each one's exit code and the first line of its stdout. The probes really run here (under the
# PowerShell that runs Pester); nothing of Windows is faked because the script asks Windows for nothing else.
BeforeDiscovery {
    . $PSScriptRoot/ScriptRunner.ps1
    $hostileCases = Get-HostileCases
}

BeforeAll {
    . $PSScriptRoot/ScriptRunner.ps1
    function Invoke-Gates {
        param([object[]]$Parameters)
        $run = Invoke-DeviceScript -Id 'gates' -Parameters $Parameters
        Assert-OneDocument $run 'gates'
        return $run
    }
    # A Probes value from raw fields (for lists the encoder would never produce).
    function ConvertTo-RawProbes {
        param([object[]]$Records)
        $encoded = foreach ($fields in $Records) { (@($fields | ForEach-Object { [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes([string]$_)) }) -join '.') }
        return (@($encoded) -join ',')
    }
    function Get-Probe { param($Doc, [string]$Name) return @($Doc.data.probes | Where-Object { $_.name -eq $Name })[0] }
}

Describe 'gates.ps1' {
    It 'runs each probe, keeps its exit code and only the first line of its stdout' {
        $run = Invoke-Gates (Get-CaseParameters 'gates.probes')
        $d = $run.Doc
        $d.errors.Count | Should -Be 0
        @($d.data.probes | ForEach-Object { $_.name }) | Should -Be @('backup', 'custom.ok', 'custom.bad', 'custom.bash')
        $backup = Get-Probe $d 'backup'
        $backup.exitCode | Should -Be 0
        $backup.answer | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        ([datetime]::UtcNow - [datetime]::Parse($backup.answer, [System.Globalization.CultureInfo]::InvariantCulture).ToUniversalTime()).TotalMinutes | Should -BeLessThan 10
        $run.Text | Should -Not -Match 'hunter2' -Because 'only the first line of a probe''s output is kept'
        (Get-Probe $d 'custom.ok').exitCode | Should -Be 0
        (Get-Probe $d 'custom.bad').exitCode | Should -Be 3
        (Get-Probe $d 'custom.bad').answer | Should -BeExactly ''
        (Get-Probe $d 'custom.bash').exitCode | Should -BeNullOrEmpty
        (Get-Probe $d 'custom.bash').answer | Should -BeExactly 'bash probes do not run on Windows'
        $d.data.startedAt | Should -Match 'Z$'
        $d.data.finishedAt | Should -Match 'Z$'
    }

    It 'ends a probe at its timeout and reports it as timed out, not as an exit code' {
        $d = (Invoke-Gates (Get-CaseParameters 'gates.timeout')).Doc
        $p = Get-Probe $d 'custom.hang'
        $p.timedOut | Should -BeTrue
        $p.exitCode | Should -BeNullOrEmpty
        $p.durationMs | Should -BeGreaterOrEqual 2000
    }

    It 'reports [] for an empty probe list' {
        $run = Invoke-Gates (Get-CaseParameters 'gates.none')
        $run.Text | Should -Match '"probes":\[\]'
        $run.Doc.errors.Count | Should -Be 0
    }

    It 'refuses a list with one bad record whole, before any probe runs' {
        $marker = Join-Path $TestDrive 'probe-ran'
        $good = @('custom.touch', 'powershell', '20', ("New-Item -ItemType File -Path '{0}'" -f $marker))
        $value = (ConvertTo-RawProbes @(, $good)) + ',not-base64!.x.y.z'
        $d = (Invoke-Gates @(New-Parameter 'Probes' $value)).Doc
        $d.data.probes | Should -BeNullOrEmpty
        (Get-ErrorSections $d) | Should -Be @('parameters')
        Test-Path -LiteralPath $marker | Should -BeFalse
    }

    It 'refuses a probe whose <field> is invalid' -ForEach @(
        @{ field = 'name'; fields = @('../x', 'powershell', '5', 'exit 0') }
        @{ field = 'shell'; fields = @('x', 'cmd', '5', 'exit 0') }
        @{ field = 'timeoutSeconds'; fields = @('x', 'powershell', '601', 'exit 0') }
        @{ field = 'script'; fields = @('x', 'powershell', '5', '') }
    ) {
        $d = (Invoke-Gates @(New-Parameter 'Probes' (ConvertTo-RawProbes @(, $fields)))).Doc
        $d.data.probes | Should -BeNullOrEmpty
        $d.errors[0].message | Should -Match $field
    }

    It 'refuses hostile value <i> as the probe list without evaluating it' -ForEach $hostileCases {
        $d = (Invoke-Gates @(New-Parameter 'Probes' $value)).Doc
        if ($value -cmatch '\A[A-Za-z0-9+/=.,]*\z') { $null = $d } else { (Get-ErrorSections $d) | Should -Be @('parameters') }
        Test-Path -LiteralPath $global:PatchPilotFixtures.marker | Should -BeFalse
    }
}
