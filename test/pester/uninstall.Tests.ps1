# uninstall.ps1 (remediation, issue 20): removes the requested KBs with wusa.exe, or DISM by package name when wusa
# refuses, and reports one outcome per KB. wusa.exe and dism.exe are logging fakes (below); Win32_QuickFixEngineering
# comes from the fake machine.
BeforeDiscovery {
    . $PSScriptRoot/ScriptRunner.ps1
    $hostileCases = Get-HostileCases
}

BeforeAll {
    . $PSScriptRoot/FakeWindows.ps1
    . $PSScriptRoot/ScriptRunner.ps1

    # wusa.exe and dism.exe as global functions (PowerShell resolves a function before an executable of the same name):
    # a fake executable on Linux cannot exit with a Windows exit code above 255 (3010, 0x240007). Each logs its
    # arguments and sets $LASTEXITCODE as the native tool would: wusa.exe from $env:FAKE_WUSA_<number> (else 0);
    # dism.exe /Get-Packages prints $env:FAKE_DISM_PACKAGES as table rows, /Remove-Package exits $env:FAKE_DISM_EXIT.
    $global:PatchPilotToolCalls = New-Object System.Collections.ArrayList
    function global:wusa.exe {
        [void]$global:PatchPilotToolCalls.Add(@(@('wusa.exe') + @($args | ForEach-Object { [string]$_ })))
        $kb = ''
        foreach ($a in $args) { if ([string]$a -like '/kb:*') { $kb = ([string]$a).Substring(4) } }
        $code = [Environment]::GetEnvironmentVariable("FAKE_WUSA_$kb")
        $global:LASTEXITCODE = $(if ($code) { [int]$code } else { 0 })
    }
    function global:dism.exe {
        [void]$global:PatchPilotToolCalls.Add(@(@('dism.exe') + @($args | ForEach-Object { [string]$_ })))
        if ([string]$args[1] -eq '/Get-Packages') {
            'Package Identity | State | Release Type | Install Time'
            foreach ($p in @(([string]$env:FAKE_DISM_PACKAGES).Split("`n"))) { if ($p) { "$p | Installed | Security Update | 1/20/2026 2:00 AM" } }
            $global:LASTEXITCODE = 0
            return
        }
        $global:LASTEXITCODE = $(if ($env:FAKE_DISM_EXIT) { [int]$env:FAKE_DISM_EXIT } else { 0 })
    }

    # The argv lists the stubs received (each starts with the tool's name).
    function Get-ToolCalls { return ,@($global:PatchPilotToolCalls.ToArray()) }
    function New-PatchedMachine {
        $m = New-FakeMachine
        $m.Cim.Win32_QuickFixEngineering = @(
            [pscustomobject]@{ HotFixID = 'KB5034129'; Description = 'Security Update'; InstalledOn = '1/20/2026' }
            [pscustomobject]@{ HotFixID = 'KB5012346'; Description = 'Update'; InstalledOn = '1/20/2026' }
            [pscustomobject]@{ HotFixID = 'KB5032198'; Description = 'Update'; InstalledOn = '12/10/2025' }
        )
        return $m
    }
    function Invoke-Uninstall {
        param([hashtable]$Machine, [object[]]$Parameters)
        $global:PatchPilotToolCalls.Clear()
        return Invoke-OnFakeWindows 'uninstall' $Machine $Parameters
    }
}

Describe 'uninstall.ps1' {
    BeforeAll { Install-FakeWindows }
    BeforeEach {
        foreach ($name in @(Get-ChildItem Env: | Where-Object { $_.Name -like 'FAKE_WUSA_*' -or $_.Name -like 'FAKE_DISM_*' } | ForEach-Object { $_.Name })) {
            Remove-Item -LiteralPath "Env:$name"
        }
    }

    It 'removes a KB with wusa /uninstall /kb:N /quiet /norestart, each argument on its own' {
        $d = (Invoke-Uninstall (New-PatchedMachine) (Get-CaseParameters 'uninstall.one')).Doc
        $d.errors.Count | Should -Be 0
        $d.data.results.Count | Should -Be 1
        $r = $d.data.results[0]
        $r.updateId | Should -BeExactly 'KB5012346'
        $r.kb | Should -BeExactly 'KB5012346'
        $r.result | Should -BeExactly 'Uninstalled'
        $r.method | Should -BeExactly 'wusa'
        $r.exitCode | Should -Be 0
        $r.rebootRequired | Should -BeFalse
        $r.finishedAt | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        $calls = Get-ToolCalls
        $calls.Count | Should -Be 1
        $calls[0] | Should -Be @('wusa.exe', '/uninstall', '/kb:5012346', '/quiet', '/norestart')
        $d.data.rebootRequired | Should -BeFalse
    }

    It 'reports a restart needed when wusa exits 3010' {
        $env:FAKE_WUSA_5012346 = '3010'
        $d = (Invoke-Uninstall (New-PatchedMachine) (Get-CaseParameters 'uninstall.one')).Doc
        $d.data.results[0].result | Should -BeExactly 'Uninstalled'
        $d.data.results[0].exitCode | Should -Be 3010
        $d.data.results[0].rebootRequired | Should -BeTrue
        $d.data.rebootRequired | Should -BeTrue
    }

    It 'reports NotInstalled when wusa says the update is not installed (0x240007)' {
        $env:FAKE_WUSA_5012346 = '2359303'
        $d = (Invoke-Uninstall (New-PatchedMachine) (Get-CaseParameters 'uninstall.one')).Doc
        $d.data.results[0].result | Should -BeExactly 'NotInstalled'
        $d.data.results[0].exitCode | Should -Be 2359303
    }

    It 'reports NotInstalled without calling wusa for a KB Win32_QuickFixEngineering does not list' {
        $m = New-PatchedMachine
        $m.Cim.Win32_QuickFixEngineering = @()
        $d = (Invoke-Uninstall $m (Get-CaseParameters 'uninstall.one')).Doc
        $d.data.results[0].result | Should -BeExactly 'NotInstalled'
        $d.data.results[0].method | Should -BeExactly 'none'
        (Get-ToolCalls).Count | Should -Be 0
    }

    It 'falls back to DISM by the package name when wusa refuses' {
        $env:FAKE_WUSA_5012346 = '87'
        $env:FAKE_DISM_PACKAGES = "Package_for_KB5012346~31bf3856ad364e35~amd64~~10.0.1.3`nPackage_for_KB5099999~31bf3856ad364e35~amd64~~10.0.1.1"
        $d = (Invoke-Uninstall (New-PatchedMachine) (Get-CaseParameters 'uninstall.one')).Doc
        $r = $d.data.results[0]
        $r.result | Should -BeExactly 'Uninstalled'
        $r.method | Should -BeExactly 'dism'
        $calls = Get-ToolCalls
        $calls.Count | Should -Be 3
        $calls[1] | Should -Be @('dism.exe', '/Online', '/Get-Packages', '/Format:Table', '/English')
        $calls[2] | Should -Be @('dism.exe', '/Online', '/Remove-Package', '/PackageName:Package_for_KB5012346~31bf3856ad364e35~amd64~~10.0.1.3', '/Quiet', '/NoRestart')
    }

    It 'reports the restart DISM needs (3010)' {
        $env:FAKE_WUSA_5012346 = '87'
        $env:FAKE_DISM_PACKAGES = 'Package_for_KB5012346~31bf3856ad364e35~amd64~~10.0.1.3'
        $env:FAKE_DISM_EXIT = '3010'
        $d = (Invoke-Uninstall (New-PatchedMachine) (Get-CaseParameters 'uninstall.one')).Doc
        $d.data.results[0].result | Should -BeExactly 'Uninstalled'
        $d.data.results[0].rebootRequired | Should -BeTrue
        $d.data.results[0].exitCode | Should -Be 3010
    }

    It 'reports NotUninstallable when wusa refuses and DISM lists no package for the KB (permanent or combined)' {
        $env:FAKE_WUSA_5032198 = '-2146498555'
        $d = (Invoke-Uninstall (New-PatchedMachine) @(New-Parameter 'UpdateIds' 'KB5032198')).Doc
        $r = $d.data.results[0]
        $r.result | Should -BeExactly 'NotUninstallable'
        $r.method | Should -BeExactly 'wusa'
        $r.detail | Should -BeLike '*DISM lists no removable package for KB5032198*'
        @(foreach ($c in (Get-ToolCalls)) { if ($c -contains '/Remove-Package') { $c } }).Count | Should -Be 0
    }

    It 'reports Failed with the exit code when DISM fails to remove the package' {
        $env:FAKE_WUSA_5012346 = '87'
        $env:FAKE_DISM_PACKAGES = 'Package_for_KB5012346~31bf3856ad364e35~amd64~~10.0.1.3'
        $env:FAKE_DISM_EXIT = '5'
        $d = (Invoke-Uninstall (New-PatchedMachine) (Get-CaseParameters 'uninstall.one')).Doc
        $d.data.results[0].result | Should -BeExactly 'Failed'
        $d.data.results[0].method | Should -BeExactly 'dism'
        $d.data.results[0].exitCode | Should -Be 5
    }

    It 'removes several KBs one after the other, in the order given (newest first, as the backend sends them)' {
        $env:FAKE_WUSA_5034129 = '3010'
        $d = (Invoke-Uninstall (New-PatchedMachine) (Get-CaseParameters 'uninstall.three')).Doc
        @($d.data.results | ForEach-Object { $_.kb }) | Should -Be @('KB5012346', 'KB5034129', 'KB5032198')
        @($d.data.results | ForEach-Object { $_.result }) | Should -Be @('Uninstalled', 'Uninstalled', 'Uninstalled')
        @(foreach ($c in (Get-ToolCalls)) { $c[2] }) | Should -Be @('/kb:5012346', '/kb:5034129', '/kb:5032198')
        $d.data.rebootRequired | Should -BeTrue
    }

    It 'accepts the most KBs the encoder sends (50)' {
        $m = New-PatchedMachine
        $m.Cim.Win32_QuickFixEngineering = @()
        $d = (Invoke-Uninstall $m (Get-CaseParameters 'uninstall.max')).Doc
        $d.errors.Count | Should -Be 0
        $d.data.results.Count | Should -Be 50
    }

    It 'reports every KB NotAttempted when the installed list cannot be read' {
        $m = New-PatchedMachine
        $m.CimErrors['Win32_QuickFixEngineering'] = [System.UnauthorizedAccessException]::new('Access denied')
        $d = (Invoke-Uninstall $m (Get-CaseParameters 'uninstall.three')).Doc
        @($d.data.results | ForEach-Object { $_.result }) | Should -Be @('NotAttempted', 'NotAttempted', 'NotAttempted')
        (Get-ScriptError $d 'results').code | Should -BeExactly 'permission-denied'
        (Get-ToolCalls).Count | Should -Be 0
    }

    It 'refuses a KB list with <name> before anything is removed' -ForEach @(
        @{ name = 'nothing'; value = '' }
        @{ name = 'a lowercase kb'; value = 'kb5012346' }
        @{ name = 'a bare number'; value = '5012346' }
        @{ name = 'a trailing newline'; value = "KB5012346`n" }
        @{ name = 'an empty item'; value = 'KB5012346,' }
        @{ name = 'wusa switches'; value = 'KB5012346 /quiet /forcerestart' }
        @{ name = '51 KBs'; value = (@(1..51 | ForEach-Object { 'KB5012346' }) -join ',') }
    ) {
        $run = Invoke-Uninstall (New-PatchedMachine) @(New-Parameter 'UpdateIds' $value)
        $run.Text | Should -Match '"results":\[\]'
        (Get-ScriptError $run.Doc 'parameters').code | Should -BeExactly 'invalid-parameter'
        (Get-ToolCalls).Count | Should -Be 0
    }

    It 'refuses hostile UpdateIds value <i> without running anything or echoing it' -ForEach $hostileCases {
        $run = Invoke-Uninstall (New-PatchedMachine) @(New-Parameter 'UpdateIds' $value)
        $run.Text | Should -Match '"results":\[\]'
        (Get-ScriptError $run.Doc 'parameters').message | Should -BeLike 'UpdateIds:*'
        (Get-ToolCalls).Count | Should -Be 0
        Test-Path -LiteralPath $PatchPilotFixtures.marker | Should -BeFalse
    }
}
