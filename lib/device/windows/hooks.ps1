# patchpilot-script: hooks@1.0.0
# Carries out one hook point's actions in order (phases 05 and 07): stop or start a service through Win32_Service and
# wait until it reached the state, or run an MSP script; reports each action. Every action runs even after one failed.
# With Fence (the pre-install point), a failed action leaves a fence that stops the install in the same run command.
# Windows PowerShell 5.1. Prints one JSON document on stdout (contract: lib/schemas/device/hooks.ts; docs/device-scripts.md).
# Parameters arrive as strings and are validated below; they are never evaluated.
param([string]$Actions = '', [string]$Fence = '')

$script:ScriptId = 'hooks'
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

# Field patterns mirror HooksParamsSchema (lib/schemas/device/parameters.ts); \z, because $ also matches before a newline.
$script:Patterns = @{
    actions = '\A[A-Za-z0-9+/=.,]*\z'
    base64 = '\A[A-Za-z0-9+/]*={0,2}\z'
    target = '\A[A-Za-z0-9][A-Za-z0-9@._-]{0,255}\z'
    timeout = '\A[1-9][0-9]{0,2}\z'
}
# Win32_Service StopService/StartService return values worth naming (the rest are reported as numbers).
$script:ServiceResults = @{
    0 = 'accepted'; 2 = 'access denied'; 3 = 'other running services depend on it'; 5 = 'cannot accept the control now'
    6 = 'not active'; 7 = 'did not respond in time'; 10 = 'already running'; 13 = 'a service it depends on failed'
    14 = 'disabled'; 15 = 'logon failed'
}

# Decodes one record's base64 fields; $null when a field is not base64.
function ConvertFrom-ActionRecord {
    param([string]$Record)
    $fields = New-Object System.Collections.ArrayList
    foreach ($raw in $Record.Split('.')) {
        if ($raw -cnotmatch $script:Patterns.base64) { return $null }
        try { [void]$fields.Add([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($raw))) } catch { return $null }
    }
    return ,([string[]]$fields.ToArray())
}

# The first invalid field of a decoded action, or $null.
function Get-InvalidActionField {
    param([string[]]$F)
    if ($F.Count -ne 4) { return 'not 4 fields' }
    if (@('stop', 'start', 'script') -cnotcontains $F[0]) { return 'invalid field kind' }
    if ($F[1] -cnotmatch $script:Patterns.target) { return 'invalid field target' }
    if ($F[2] -cnotmatch $script:Patterns.timeout -or [int]$F[2] -gt 600) { return 'invalid field timeoutSeconds' }
    if ($F[0] -ceq 'script' -and ($F[3].Length -eq 0 -or $F[3].Length -gt 32000)) { return 'invalid field script' }
    return $null
}

# The service's Win32_Service row (names compared exactly, without a WQL filter built from text), or $null.
function Get-ServiceRow {
    param([string]$Name)
    $rows = @(Get-CimInstance -ClassName Win32_Service | Where-Object { $_.Name -eq $Name })
    if ($rows.Count -eq 0) { return $null }
    return $rows[0]
}

# Stops or starts a service and waits until it reports Stopped / Running; sets ok, state and detail.
function Invoke-ServiceAction {
    param([string[]]$F, $Result)
    $want = if ($F[0] -ceq 'stop') { 'Stopped' } else { 'Running' }
    $row = Get-ServiceRow $F[1]
    if ($null -eq $row) { $Result.detail = 'service not found'; return }
    $method = if ($F[0] -ceq 'stop') { 'StopService' } else { 'StartService' }
    $code = [int](Invoke-CimMethod -InputObject $row -MethodName $method).ReturnValue
    $said = $script:ServiceResults[$code]
    if (-not $said) { $said = 'code {0}' -f $code }
    $deadline = [datetime]::UtcNow.AddSeconds([int]$F[2])
    do {
        $row = Get-ServiceRow $F[1]
        $state = if ($null -eq $row) { $null } else { [string]$row.State }
        if ($state -ceq $want) { break }
        Start-Sleep -Milliseconds 500
    } while ([datetime]::UtcNow -lt $deadline)
    $Result.state = $state
    $Result.ok = ($state -ceq $want)
    $Result.detail = ('{0} returned {1} ({2}); now {3}' -f $method, $code, $said, $state)
}

# Runs an MSP script in a child process (never Invoke-Expression) with no input and its output dropped.
function Invoke-ScriptAction {
    param([string[]]$F, $Result)
    $file = Join-Path ([System.IO.Path]::GetTempPath()) ('patchpilot-hook-{0}.ps1' -f [guid]::NewGuid())
    [System.IO.File]::WriteAllText($file, $F[3], (New-Object System.Text.UTF8Encoding $true))
    try {
        # Windows PowerShell 5.1 runs its own powershell.exe; PowerShell 7 (where the tests run) its pwsh.
        $exe = @('powershell.exe', 'pwsh.exe', 'pwsh' | ForEach-Object { Join-Path $PSHOME $_ } | Where-Object { Test-Path -LiteralPath $_ })[0]
        $start = New-Object System.Diagnostics.ProcessStartInfo
        $start.FileName = $exe
        $start.Arguments = ('-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{0}"' -f $file)
        $start.UseShellExecute = $false
        $start.CreateNoWindow = $true
        $process = [System.Diagnostics.Process]::Start($start)
        if (-not $process.WaitForExit([int]$F[2] * 1000)) {
            try { $process.Kill() } catch { $null = $_ }
            $Result.detail = ('timed out after {0}s' -f $F[2])
        } else {
            $Result.exitCode = $process.ExitCode
            $Result.ok = ($process.ExitCode -eq 0)
            $Result.detail = ('exit {0}' -f $process.ExitCode)
        }
    } finally {
        Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
    }
}

$script:Data.startedAt = Get-NowUtc
$records = New-Object System.Collections.ArrayList
$valid = $true
if ($Actions -cnotmatch $script:Patterns.actions) {
    Add-ParameterError -Parameter 'Actions' -Message 'must be base64 fields joined by . and records joined by ,'
    $valid = $false
} elseif ($Actions) {
    $rawRecords = $Actions.Split(',')
    if ($rawRecords.Count -gt 60) { Add-ParameterError -Parameter 'Actions' -Message 'at most 60 actions'; $valid = $false }
    # Every record is validated before any action runs: a list with one bad record is refused whole.
    for ($r = 0; $valid -and $r -lt $rawRecords.Count; $r++) {
        $fields = ConvertFrom-ActionRecord $rawRecords[$r]
        $bad = $null
        if ($null -eq $fields) { $bad = 'a field that is not base64' } else { $bad = Get-InvalidActionField -F $fields }
        if ($bad) { Add-ParameterError -Parameter 'Actions' -Message ('action {0}: {1}' -f $r, $bad); $valid = $false }
        else { [void]$records.Add($fields) }
    }
}
if ($valid) {
    $results = New-Object System.Collections.ArrayList
    foreach ($fields in $records) {
        $result = [ordered]@{ kind = $fields[0]; target = $fields[1]; ok = $false; state = $null; exitCode = $null; durationMs = 0; detail = '' }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        try {
            if ($fields[0] -ceq 'script') { Invoke-ScriptAction -F $fields -Result $result } else { Invoke-ServiceAction -F $fields -Result $result }
        } catch {
            $result.ok = $false
            $result.detail = ('{0} failed: {1}' -f $fields[0], $_.Exception.Message)
        }
        $watch.Stop()
        $result.durationMs = [int64]$watch.ElapsedMilliseconds
        if ($result.detail.Length -gt 2000) { $result.detail = $result.detail.Substring(0, 2000) }
        [void]$results.Add($result)
    }
    $script:Data.actions = @($results.ToArray())
} else {
    $script:Data.actions = $null
}
# The pre-install point's fence (issue 20): the install later in the same run command reads it and installs nothing
# when it says an action failed; removed when every action succeeded, so it never outlives the point that wrote it.
if ($Fence) {
    if ($Fence -cnotmatch '^[A-Za-z0-9-]{8,64}$') {
        Add-ParameterError -Parameter 'Fence' -Message 'must be 8-64 letters, digits or -'
    } else {
        $fenceFile = Join-Path ([System.IO.Path]::GetTempPath()) ('patchpilot-hook-failed-{0}' -f $Fence)
        $failed = @()
        if (-not $valid) { $failed += 'the hook actions were refused' }
        foreach ($r in @($script:Data.actions | Where-Object { $null -ne $_ -and -not $_.ok })) { $failed += ('{0} {1}' -f $r.kind, $r.target) }
        if ($failed.Count -gt 0) { [System.IO.File]::WriteAllText($fenceFile, ($failed -join ', ')) }
        else { Remove-Item -LiteralPath $fenceFile -Force -ErrorAction SilentlyContinue }
    }
}
$script:Data.finishedAt = Get-NowUtc
Write-Document
