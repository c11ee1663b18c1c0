# patchpilot-script: gates@1.0.0
# Runs the MSP's pre-patch probes (backup provider, custom checks) in the read-only first stage (phase 04) and reports
# each one's exit code and the first line of its stdout; the backend judges the gates (lib/domain/gates).
# Windows PowerShell 5.1. Prints one JSON document on stdout (contract: lib/schemas/device/gates.ts; docs/device-scripts.md).
# Parameters arrive as strings and are validated below; they are never evaluated.
param([string]$Probes = '')

$script:ScriptId = 'gates'
$script:ScriptVersion = '1.0.0'

# --- patchpilot common (identical in every Windows script: Run Command sends one file, so helpers are copied) ---
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$script:Errors = New-Object System.Collections.ArrayList
$script:Data = [ordered]@{}
$script:Invariant = [System.Globalization.CultureInfo]::InvariantCulture

# Records one failed section; the other sections still report.
function Add-ScriptError {
    param([string]$Section, [string]$Message, [string]$Code)
    if ($Message.Length -gt 4000) { $Message = $Message.Substring(0, 4000) }
    $entry = [ordered]@{ section = $Section; message = $Message }
    if ($Code) { $entry.code = $Code }
    [void]$script:Errors.Add($entry)
}

# An HRESULT as the error code where there is one (COM and WUA failures), else the exception type. A failing COM
# method reaches PowerShell wrapped ("Exception calling "Search" ...": MethodInvocationException), so the
# InnerException chain is searched.
function Get-ErrorCode {
    param($ErrorRecord)
    for ($ex = $ErrorRecord.Exception; $null -ne $ex; $ex = $ex.InnerException) {
        if ($ex -is [System.Runtime.InteropServices.COMException]) { return ('0x{0:X8}' -f $ex.HResult) }
        if ($ex -is [System.UnauthorizedAccessException]) { return 'permission-denied' }
        if ($ex -is [System.Management.Automation.CommandNotFoundException]) { return 'not-available' }
    }
    $ex = $ErrorRecord.Exception
    while ($ex -is [System.Management.Automation.MethodInvocationException] -and $null -ne $ex.InnerException) { $ex = $ex.InnerException }
    return $ex.GetType().Name
}

# Runs one section; on failure its data field is null and errors[] says why. -List keeps arrays arrays.
function Invoke-Section {
    param([string]$Name, [scriptblock]$Body, [switch]$List)
    try {
        if ($List) { $script:Data[$Name] = @(& $Body) } else { $script:Data[$Name] = & $Body }
    } catch {
        $script:Data[$Name] = $null
        Add-ScriptError -Section $Name -Message $_.Exception.Message -Code (Get-ErrorCode $_)
    }
}

# ISO 8601 UTC with second precision, the format every PatchPilot timestamp uses. A DateTime of unspecified kind
# is UTC already: WUA's dates arrive over COM that way, and a date-only text (QFE InstalledOn) names a day that the
# device's time zone must not move.
function ConvertTo-IsoUtc {
    param([datetime]$Date)
    if ($Date.Kind -eq [System.DateTimeKind]::Unspecified) { $Date = [datetime]::SpecifyKind($Date, [System.DateTimeKind]::Utc) }
    return $Date.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", $script:Invariant)
}

function Get-NowUtc {
    return ConvertTo-IsoUtc ([datetime]::UtcNow)
}

function Get-LastBootUtc {
    return ConvertTo-IsoUtc (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime
}

# Records an invalid parameter value without echoing it (it may be hostile or long).
function Add-ParameterError {
    param([string]$Parameter, [string]$Message)
    Add-ScriptError -Section 'parameters' -Message ('{0}: {1}' -f $Parameter, $Message) -Code 'invalid-parameter'
}

# Local fixed disks with free and total bytes.
function Get-DiskFacts {
    foreach ($disk in @(Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType=3')) {
        [ordered]@{ mount = [string]$disk.DeviceID; freeBytes = [int64]$disk.FreeSpace; totalBytes = [int64]$disk.Size }
    }
}

# Pending-reboot signals: CBS, Windows Update and PendingFileRenameOperations.
function Get-PendingReboot {
    $signals = New-Object System.Collections.ArrayList
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') {
        [void]$signals.Add('CBS')
    }
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') {
        [void]$signals.Add('WindowsUpdate')
    }
    $sessionManager = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -ErrorAction SilentlyContinue
    if ($null -ne $sessionManager -and $sessionManager.PSObject.Properties['PendingFileRenameOperations']) {
        [void]$signals.Add('PendingFileRenameOperations')
    }
    return [ordered]@{ pending = ($signals.Count -gt 0); signals = @($signals.ToArray()) }
}

# Prints the one output document. -InputObject keeps one-element arrays arrays (PS 5.1 unrolls pipeline input).
function Write-Document {
    $document = [ordered]@{
        schemaVersion = 1
        scriptId = $script:ScriptId
        scriptVersion = $script:ScriptVersion
        data = $script:Data
        errors = @($script:Errors.ToArray())
    }
    try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { $null = $_ }
    Write-Output (ConvertTo-Json -InputObject $document -Depth 10 -Compress)
}
# --- end patchpilot common ---

# Field patterns mirror GatesParamsSchema (lib/schemas/device/parameters.ts); \z, because $ also matches before a newline.
$script:Patterns = @{
    probes = '\A[A-Za-z0-9+/=.,]*\z'
    base64 = '\A[A-Za-z0-9+/]*={0,2}\z'
    name = '\A[A-Za-z0-9][A-Za-z0-9._-]{0,99}\z'
    timeout = '\A[1-9][0-9]{0,2}\z'
}

# Decodes one record's base64 fields; $null when a field is not base64.
function ConvertFrom-ProbeRecord {
    param([string]$Record)
    $fields = New-Object System.Collections.ArrayList
    foreach ($raw in $Record.Split('.')) {
        if ($raw -cnotmatch $script:Patterns.base64) { return $null }
        try { [void]$fields.Add([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($raw))) } catch { return $null }
    }
    return ,([string[]]$fields.ToArray())
}

# The first invalid field of a decoded probe, or $null.
function Get-InvalidProbeField {
    param([string[]]$F)
    if ($F.Count -ne 4) { return 'not 4 fields' }
    if ($F[0] -cnotmatch $script:Patterns.name) { return 'invalid field name' }
    if ($F[1] -cne 'powershell' -and $F[1] -cne 'bash') { return 'invalid field shell' }
    if ($F[2] -cnotmatch $script:Patterns.timeout -or [int]$F[2] -gt 600) { return 'invalid field timeoutSeconds' }
    if ($F[3].Length -eq 0 -or $F[3].Length -gt 32000) { return 'invalid field script' }
    return $null
}

# Runs one probe in a child process (never Invoke-Expression) with no input; keeps the first line of its stdout
# (at most 200 characters: the rest is dropped, it may hold secrets), its exit code and its duration.
function Invoke-Probe {
    param([string[]]$F)
    $result = [ordered]@{ name = $F[0]; exitCode = $null; answer = ''; timedOut = $false; durationMs = 0 }
    if ($F[1] -cne 'powershell') { $result.answer = 'bash probes do not run on Windows'; return $result }
    $file = Join-Path ([System.IO.Path]::GetTempPath()) ('patchpilot-probe-{0}.ps1' -f [guid]::NewGuid())
    [System.IO.File]::WriteAllText($file, $F[3], (New-Object System.Text.UTF8Encoding $true))
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        # Windows PowerShell 5.1 runs its own powershell.exe; PowerShell 7 (where the tests run) its pwsh.
        $exe = @('powershell.exe', 'pwsh.exe', 'pwsh' | ForEach-Object { Join-Path $PSHOME $_ } | Where-Object { Test-Path -LiteralPath $_ })[0]
        $start = New-Object System.Diagnostics.ProcessStartInfo
        $start.FileName = $exe
        $start.Arguments = ('-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{0}"' -f $file)
        $start.UseShellExecute = $false
        $start.CreateNoWindow = $true
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $start.WorkingDirectory = [System.IO.Path]::GetTempPath()
        $process = [System.Diagnostics.Process]::Start($start)
        # Read both streams asynchronously, so a chatty probe cannot block on a full pipe.
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $null = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit([int]$F[2] * 1000)) {
            try { $process.Kill() } catch { $null = $_ }
            $result.timedOut = $true
        } else {
            $process.WaitForExit()
            $result.exitCode = $process.ExitCode
            $first = ($stdout.Result -split "`r?`n", 2)[0]
            if ($first.Length -gt 200) { $first = $first.Substring(0, 200) }
            $result.answer = $first
        }
    } catch {
        $result.answer = ('probe could not start: {0}' -f $_.Exception.Message)
        if ($result.answer.Length -gt 200) { $result.answer = $result.answer.Substring(0, 200) }
    } finally {
        $watch.Stop()
        $result.durationMs = [int64]$watch.ElapsedMilliseconds
        Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
    }
    return $result
}

$script:Data.startedAt = Get-NowUtc
$records = New-Object System.Collections.ArrayList
$valid = $true
if ($Probes -cnotmatch $script:Patterns.probes) {
    Add-ParameterError -Parameter 'Probes' -Message 'must be base64 fields joined by . and records joined by ,'
    $valid = $false
} elseif ($Probes) {
    $rawRecords = $Probes.Split(',')
    if ($rawRecords.Count -gt 21) { Add-ParameterError -Parameter 'Probes' -Message 'at most 21 probes'; $valid = $false }
    # Every record is validated before any probe runs: a list with one bad record is refused whole.
    for ($r = 0; $valid -and $r -lt $rawRecords.Count; $r++) {
        $fields = ConvertFrom-ProbeRecord $rawRecords[$r]
        $bad = $null
        if ($null -eq $fields) { $bad = 'a field that is not base64' } else { $bad = Get-InvalidProbeField -F $fields }
        if ($bad) { Add-ParameterError -Parameter 'Probes' -Message ('probe {0}: {1}' -f $r, $bad); $valid = $false }
        else { [void]$records.Add($fields) }
    }
}
if ($valid) {
    $results = New-Object System.Collections.ArrayList
    foreach ($fields in $records) { [void]$results.Add((Invoke-Probe -F $fields)) }
    $script:Data.probes = @($results.ToArray())
} else {
    $script:Data.probes = $null
}
$script:Data.finishedAt = Get-NowUtc
Write-Document
