# Runs a device script the way Run Command does, for the *.Tests.ps1 suites (dot-sourced in BeforeAll).
#
# The Jest side (test/integration/device/windowsScripts.test.ts) writes a fixtures file, named by
# $env:PATCHPILOT_PESTER_FIXTURES, with every Windows script exactly as lib/device/registry.ts loads and hashes it,
# the Run Command parameter lists lib/device/parameters.ts encodes for each case, and the hostile values. Every
# stdout a script prints is appended to <outputsDir>/<script>.jsonl; Jest validates each one with the collector's
# own parser (lib/device/parseScriptOutput.ts) after Pester has run.

Set-StrictMode -Version Latest

$global:PatchPilotFixtures = Get-Content -LiteralPath $env:PATCHPILOT_PESTER_FIXTURES -Raw -Encoding utf8 | ConvertFrom-Json -DateKind String
$global:PatchPilotRunCount = @{}

# The encoded parameter list of a named case (as lib/device/parameters.ts encoded it).
function global:Get-CaseParameters {
    param([string]$Case)
    $entry = $global:PatchPilotFixtures.params.PSObject.Properties[$Case]
    if ($null -eq $entry) { throw "no parameter case '$Case' in the fixtures" }
    return @($entry.Value.encoded)
}

# The typed parameters of a named case (what was encoded).
function global:Get-CaseTyped {
    param([string]$Case)
    return $global:PatchPilotFixtures.params.PSObject.Properties[$Case].Value.typed
}

function global:New-Parameter {
    param([string]$Name, [string]$Value)
    return [pscustomobject]@{ name = $Name; value = $Value }
}

# The script text, written to a file byte for byte; its SHA-256 must equal the registry's.
function global:Get-DeviceScriptFile {
    param([string]$Id)
    $script = $global:PatchPilotFixtures.scripts.$Id
    $file = Join-Path $TestDrive "$Id.ps1"
    if (-not (Test-Path -LiteralPath $file)) {
        [System.IO.File]::WriteAllText($file, $script.text, [System.Text.UTF8Encoding]::new($false))
    }
    $hash = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($hash -ne $script.sha256) { throw "$Id.ps1 on disk hashes to $hash, the registry sent $($script.sha256)" }
    return $file
}

# Runs one script with a Run Command parameter list ([{name, value}]) and returns what it printed:
#   Stdout  the success-stream output (what powershell.exe -File prints on stdout), one string per object
#   Doc     the parsed document when Stdout is exactly one line of JSON, else $null
#   Other   warning/information/verbose records (also stdout under powershell.exe -File) and non-terminating errors
function global:Invoke-DeviceScript {
    param([string]$Id, [object[]]$Parameters = @())
    $file = Get-DeviceScriptFile -Id $Id
    $splat = @{}
    foreach ($p in $Parameters) { $splat[[string]$p.name] = [string]$p.value }
    $records = @(& $file @splat *>&1)
    $stdout = New-Object System.Collections.ArrayList
    $other = New-Object System.Collections.ArrayList
    foreach ($r in $records) {
        if ($r -is [System.Management.Automation.ErrorRecord] -or $r -is [System.Management.Automation.InformationRecord] -or
            $r -is [System.Management.Automation.WarningRecord] -or $r -is [System.Management.Automation.VerboseRecord] -or
            $r -is [System.Management.Automation.DebugRecord]) { [void]$other.Add($r) }
        else { [void]$stdout.Add([string]$r) }
    }
    $text = ($stdout.ToArray() -join "`n")
    $testName = [string]$____Pester.CurrentTest.ExpandedPath
    $n = 1 + [int]$global:PatchPilotRunCount[$testName]
    $global:PatchPilotRunCount[$testName] = $n
    $line = [ordered]@{ script = $Id; test = $testName; run = $n; stdout = $text }
    $out = Join-Path $global:PatchPilotFixtures.outputsDir "$Id.jsonl"
    [System.IO.File]::AppendAllText($out, (ConvertTo-Json -InputObject $line -Compress -Depth 3) + "`n", [System.Text.UTF8Encoding]::new($false))
    $doc = $null
    if ($stdout.Count -eq 1) {
        try { $doc = ConvertFrom-Json -InputObject $text -DateKind String } catch { $doc = $null }
    }
    return [pscustomobject]@{ Stdout = @($stdout.ToArray()); Text = $text; Doc = $doc; Other = @($other.ToArray()) }
}

# The checks every run must pass, whatever the case: one JSON document on stdout and nothing else printed.
function global:Assert-OneDocument {
    param($Run, [string]$Id)
    $Run.Stdout.Count | Should -Be 1 -Because 'a script prints exactly one document on stdout'
    @($Run.Other | ForEach-Object { "$_" }) | Should -BeNullOrEmpty -Because 'warnings, host output and errors would reach stdout under powershell.exe -File'
    $Run.Doc | Should -Not -BeNullOrEmpty -Because 'stdout is one JSON document'
    $Run.Doc.schemaVersion | Should -Be 1
    $Run.Doc.scriptId | Should -BeExactly $Id
    $Run.Doc.scriptVersion | Should -BeExactly $global:PatchPilotFixtures.scripts.$Id.version
}

# Runs script $Id on the fake machine $Machine (FakeWindows.ps1, dot-sourced beside this file) and checks it printed
# one document: every suite's Invoke-<Script> does this.
function global:Invoke-OnFakeWindows {
    param([string]$Id, [hashtable]$Machine, [object[]]$Parameters)
    Use-FakeWindows $Machine
    $run = Invoke-DeviceScript -Id $Id -Parameters $Parameters
    Assert-OneDocument $run $Id
    return $run
}

# The names of the errors[] sections, and one error by section.
function global:Get-ErrorSections { param($Doc) return @($Doc.errors | ForEach-Object { $_.section }) }
function global:Get-ScriptError { param($Doc, [string]$Section) return @($Doc.errors | Where-Object { $_.section -eq $Section })[0] }

# A property of the parsed document that is present (strict mode would throw on a missing one, which is the point).
function global:Get-Field {
    param($Object, [string]$Name)
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { throw "the document has no field '$Name'" }
    return $property.Value
}

# The hostile values: the injection list every parameter must refuse (or carry as inert data).
function global:Get-HostileValues { return @($global:PatchPilotFixtures.hostile) }

# The hostile values as -ForEach cases (@{ i; value }), for BeforeDiscovery: test names carry the index, never
# the value (it holds control characters and NUL, which have no place in a JUnit XML report).
function global:Get-HostileCases {
    $values = @((Get-Content -LiteralPath $env:PATCHPILOT_PESTER_FIXTURES -Raw -Encoding utf8 | ConvertFrom-Json).hostile)
    $cases = for ($i = 0; $i -lt $values.Count; $i++) { @{ i = $i; value = [string]$values[$i] } }
    return $cases
}

# A PATH entry with a fake shutdown.exe that logs its arguments (one per line) and exits with $env:FAKE_SHUTDOWN_EXIT.
function global:Install-FakeShutdown {
    $bin = Join-Path $TestDrive 'bin'
    New-Item -ItemType Directory -Path $bin -Force | Out-Null
    $log = Join-Path $bin 'shutdown.log'
    $stub = @"
#!/bin/bash
for a in "`$@"; do printf '%s\n' "`$a" >> '$log'; done
printf -- '--\n' >> '$log'
code="`${FAKE_SHUTDOWN_EXIT:-0}"
if [ "`$code" != 0 ]; then printf '%s\n' "`${FAKE_SHUTDOWN_MESSAGE:-}" >&2; fi
exit "`$code"
"@
    [System.IO.File]::WriteAllText((Join-Path $bin 'shutdown.exe'), $stub.Replace("`r`n", "`n"))
    & chmod +x (Join-Path $bin 'shutdown.exe')
    $env:PATH = $bin + [System.IO.Path]::PathSeparator + $env:PATH
    $global:FakeShutdownLog = $log
}

# The argv lists shutdown.exe received so far (each an array of strings).
function global:Get-ShutdownCalls {
    if (-not (Test-Path -LiteralPath $global:FakeShutdownLog)) { return ,@() }
    $calls = New-Object System.Collections.ArrayList
    $current = New-Object System.Collections.ArrayList
    foreach ($line in [System.IO.File]::ReadAllLines($global:FakeShutdownLog)) {
        if ($line -eq '--') { [void]$calls.Add(@($current.ToArray())); $current.Clear() } else { [void]$current.Add($line) }
    }
    return ,@($calls.ToArray())
}

function global:Clear-ShutdownCalls {
    if (Test-Path -LiteralPath $global:FakeShutdownLog) { Remove-Item -LiteralPath $global:FakeShutdownLog }
}
