# patchpilot-script: validate@1.0.0
# Runs the AppValidationPolicy checks it is given (phases 04 and 08) and reports every attempt.
# Windows PowerShell 5.1. Prints one JSON document on stdout (contract: lib/schemas/device/validate.ts; docs/device-scripts.md).
# Parameters arrive as strings and are validated below; they are never evaluated.
param([string]$Checks = '')

$script:ScriptId = 'validate'
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

# Field patterns mirror CheckSchema (lib/schemas/policies.ts); \z, because $ also matches before a newline.
$script:Patterns = @{
    base64 = '\A[A-Za-z0-9+/]*={0,2}\z'
    attempts = '\A([1-9]|10)\z'
    settle = '\A(0|[1-9][0-9]{0,3})\z'
    timeout = '\A[1-9][0-9]{0,2}\z'
    url = '\Ahttps?://\S+\z'
    status = '\A[1-5][0-9][0-9]( [1-5][0-9][0-9])*\z'
    host = '\A[A-Za-z0-9._:-]{1,253}\z'
    port = '\A[1-9][0-9]{0,4}\z'
    # Counts are int64 here: the policy schema sets no upper bound on minCount or maxCount.
    count = '\A(0|[1-9][0-9]{0,14})\z'
    exit = '\A-?(0|[1-9][0-9]{0,9})\z'
    ids = '\A([0-9]{1,10}( [0-9]{1,10})*)?\z'
    lookback = '\A[1-9][0-9]{0,3}\z'
}
$script:FieldCounts = @{ http = 10; service = 8; tcp = 8; process = 8; script = 9; eventlog = 12 }

function Test-Text {
    param([string]$Value, [int]$Max)
    return ($Value.Length -ge 1 -and $Value.Length -le $Max)
}

function Test-Name {
    param([string]$Value, [int]$Max)
    return ((Test-Text $Value $Max) -and $Value -notmatch '[\r\n]')
}

# The name of the first invalid field of a decoded record, or $null when the record is valid.
function Get-InvalidField {
    param([string[]]$F)
    $p = $script:Patterns
    if (-not (Test-Text $F[0] 100)) { return 'app' }
    if (-not (Test-Text $F[1] 100)) { return 'name' }
    # -cnotcontains: a hashtable's keys match without regard to case, and 'TCP' must not pass as tcp.
    if (@($script:FieldCounts.Keys) -cnotcontains $F[2] -or $F.Count -ne $script:FieldCounts[$F[2]]) { return 'type' }
    if ($F[3] -cnotmatch $p.attempts) { return 'attempts' }
    if ($F[4] -cnotmatch $p.settle -or [int]$F[4] -gt 3600) { return 'settleSeconds' }
    if ($F[5] -cnotmatch $p.timeout -or [int]$F[5] -gt 600) { return 'timeoutSeconds' }
    switch -CaseSensitive ($F[2]) {
        'http' {
            if ($F[6] -cnotmatch $p.url -or $F[6].Length -gt 2048) { return 'url' }
            if ($F[7] -cne 'GET' -and $F[7] -cne 'HEAD') { return 'method' }
            if ($F[8] -cnotmatch $p.status) { return 'expectStatus' }
            if ($F[9].Length -gt 1000) { return 'bodyContains' }
        }
        'service' {
            if (-not (Test-Name $F[6] 256)) { return 'serviceName' }
            if ($F[7] -cne 'Running' -and $F[7] -cne 'Stopped') { return 'expectState' }
        }
        'tcp' {
            if ($F[6] -cnotmatch $p.host) { return 'host' }
            if ($F[7] -cnotmatch $p.port -or [int]$F[7] -gt 65535) { return 'port' }
        }
        'process' {
            if (-not (Test-Name $F[6] 256)) { return 'processName' }
            if ($F[7] -cnotmatch $p.count -or [int64]$F[7] -lt 1) { return 'minCount' }
        }
        'script' {
            if ($F[6] -cne 'powershell' -and $F[6] -cne 'bash') { return 'shell' }
            if (-not (Test-Text $F[7] 8000)) { return 'script' }
            if ($F[8] -cnotmatch $p.exit) { return 'expectExitCode' }
        }
        'eventlog' {
            if (-not (Test-Name $F[6] 256)) { return 'logName' }
            if ($F[7] -and -not (Test-Name $F[7] 256)) { return 'source' }
            if ($F[8] -cnotmatch $p.ids) { return 'eventIds' }
            if (@('Critical', 'Error', 'Warning') -cnotcontains $F[9]) { return 'level' }
            if ($F[10] -cnotmatch $p.lookback -or [int]$F[10] -gt 1440) { return 'lookbackMinutes' }
            if ($F[11] -cnotmatch $p.count) { return 'maxCount' }
        }
    }
    return $null
}

# Decodes one record's base64 fields; $null when a field is not base64.
function ConvertFrom-CheckRecord {
    param([string]$Record)
    $fields = New-Object System.Collections.ArrayList
    foreach ($raw in $Record.Split('.')) {
        if ($raw -cnotmatch $script:Patterns.base64) { return $null }
        try { [void]$fields.Add([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($raw))) } catch { return $null }
    }
    return ,([string[]]$fields.ToArray())
}

# Each check returns @{ ok; detail } for one attempt; $T is the attempt's timeout in seconds.
function Test-HttpCheck {
    param([string[]]$F, [int]$T)
    $request = [System.Net.HttpWebRequest]::Create($F[6])
    $request.Method = $F[7]
    $request.Timeout = $T * 1000
    $request.ReadWriteTimeout = $T * 1000
    $request.AllowAutoRedirect = $false
    $response = $null
    try {
        try { $response = $request.GetResponse() }
        catch [System.Net.WebException] {
            if ($null -eq $_.Exception.Response) { return @{ ok = $false; detail = ('request failed: {0}' -f $_.Exception.Message) } }
            $response = $_.Exception.Response
        }
        $code = [int]$response.StatusCode
        $expected = @($F[8].Split(' ') | ForEach-Object { [int]$_ })
        if ($expected -notcontains $code) { return @{ ok = $false; detail = ('HTTP {0}, expected one of: {1}' -f $code, $F[8]) } }
        if ($F[9] -and $F[7] -ceq 'GET') {
            $reader = New-Object System.IO.StreamReader($response.GetResponseStream())
            $body = $reader.ReadToEnd()
            if (-not $body.Contains($F[9])) { return @{ ok = $false; detail = ('HTTP {0}, body does not contain the expected text' -f $code) } }
        }
        return @{ ok = $true; detail = ('HTTP {0}' -f $code) }
    } finally {
        if ($null -ne $response) { $response.Close() }
    }
}

function Test-ServiceCheck {
    param([string[]]$F, [int]$T)
    $service = @(Get-CimInstance -ClassName Win32_Service | Where-Object { $_.Name -eq $F[6] })
    if ($service.Count -eq 0) {
        return @{ ok = ($F[7] -ceq 'Stopped'); detail = 'service not found' }
    }
    $state = [string]$service[0].State
    return @{ ok = ($state -eq $F[7]); detail = ('State={0}, expected {1}' -f $state, $F[7]) }
}

function Test-TcpCheck {
    param([string[]]$F, [int]$T)
    $client = New-Object System.Net.Sockets.TcpClient
    try {
        $pendingConnect = $client.BeginConnect($F[6], [int]$F[7], $null, $null)
        if (-not $pendingConnect.AsyncWaitHandle.WaitOne($T * 1000)) { return @{ ok = $false; detail = ('no connection within {0}s' -f $T) } }
        $client.EndConnect($pendingConnect)
        return @{ ok = $true; detail = ('connected to port {0}' -f $F[7]) }
    } catch {
        return @{ ok = $false; detail = ('connection failed: {0}' -f $_.Exception.Message) }
    } finally {
        $client.Close()
    }
}

function Test-ProcessCheck {
    param([string[]]$F, [int]$T)
    $name = $F[6] -replace '\.exe\z', ''
    # Compared as text: Get-Process -Name would treat the name as a wildcard.
    $count = @(Get-Process | Where-Object { $_.ProcessName -eq $name }).Count
    return @{ ok = ($count -ge [int64]$F[7]); detail = ('{0} running, at least {1} expected' -f $count, $F[7]) }
}

function Test-ScriptCheck {
    param([string[]]$F, [int]$T)
    if ($F[6] -cne 'powershell') { return @{ ok = $false; detail = 'bash scripts do not run on Windows' } }
    # The script text goes to a file and runs in a child process (never Invoke-Expression); its output is
    # dropped because it may hold secrets.
    $file = Join-Path ([System.IO.Path]::GetTempPath()) ('patchpilot-check-{0}.ps1' -f [guid]::NewGuid())
    [System.IO.File]::WriteAllText($file, $F[7], (New-Object System.Text.UTF8Encoding $true))
    try {
        $start = New-Object System.Diagnostics.ProcessStartInfo
        $start.FileName = Join-Path $PSHOME 'powershell.exe'
        $start.Arguments = ('-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{0}"' -f $file)
        $start.UseShellExecute = $false
        $start.CreateNoWindow = $true
        $process = [System.Diagnostics.Process]::Start($start)
        if (-not $process.WaitForExit($T * 1000)) {
            try { $process.Kill() } catch { $null = $_ }
            return @{ ok = $false; detail = ('timed out after {0}s' -f $T) }
        }
        $code = $process.ExitCode
        return @{ ok = ($code -eq [int64]$F[8]); detail = ('exit {0}, expected {1}' -f $code, $F[8]) }
    } finally {
        Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
    }
}

function Test-EventlogCheck {
    param([string[]]$F, [int]$T)
    $levels = @{ Critical = @(1); Error = @(1, 2); Warning = @(1, 2, 3) }
    $filter = @{ LogName = $F[6]; Level = $levels[$F[9]]; StartTime = (Get-Date).AddMinutes(-[int]$F[10]) }
    if ($F[7]) { $filter.ProviderName = $F[7] }
    if ($F[8]) { $filter.Id = @($F[8].Split(' ') | ForEach-Object { [int]$_ }) }
    $max = [int64]$F[11]
    $count = 0
    try {
        $count = @(Get-WinEvent -FilterHashtable $filter -MaxEvents ($max + 1) -ErrorAction Stop).Count
    } catch {
        if ($_.FullyQualifiedErrorId -notlike 'NoMatchingEventsFound*') { return @{ ok = $false; detail = ('event log query failed: {0}' -f $_.Exception.Message) } }
    }
    return @{ ok = ($count -le $max); detail = ('{0} matching events in the last {1} min, at most {2} allowed' -f $count, $F[10], $max) }
}

# Runs one decoded check with its attempts; the settle delay comes before every attempt.
function Invoke-Check {
    param([string[]]$F)
    $attempts = New-Object System.Collections.ArrayList
    $success = $false
    for ($i = 1; $i -le [int]$F[3]; $i++) {
        if ([int]$F[4] -gt 0) { Start-Sleep -Seconds ([int]$F[4]) }
        $at = Get-NowUtc
        try {
            switch -CaseSensitive ($F[2]) {
                'http' { $outcome = Test-HttpCheck -F $F -T ([int]$F[5]) }
                'service' { $outcome = Test-ServiceCheck -F $F -T ([int]$F[5]) }
                'tcp' { $outcome = Test-TcpCheck -F $F -T ([int]$F[5]) }
                'process' { $outcome = Test-ProcessCheck -F $F -T ([int]$F[5]) }
                'script' { $outcome = Test-ScriptCheck -F $F -T ([int]$F[5]) }
                default { $outcome = Test-EventlogCheck -F $F -T ([int]$F[5]) }
            }
        } catch {
            $outcome = @{ ok = $false; detail = ('check failed: {0}' -f $_.Exception.Message) }
        }
        $detail = [string]$outcome.detail
        if ($detail.Length -gt 4000) { $detail = $detail.Substring(0, 4000) }
        [void]$attempts.Add([ordered]@{ at = $at; success = [bool]$outcome.ok; detail = $detail })
        if ($outcome.ok) { $success = $true; break }
    }
    return [ordered]@{ app = $F[0]; check = $F[1]; type = $F[2]; success = $success; attempts = @($attempts.ToArray()) }
}

$script:Data.startedAt = Get-NowUtc
$records = New-Object System.Collections.ArrayList
$valid = $true
if ($Checks -cnotmatch '\A[A-Za-z0-9+/=.,]*\z') {
    Add-ParameterError -Parameter 'Checks' -Message 'must be base64 fields joined by . and records joined by ,'
    $valid = $false
} elseif ($Checks) {
    $rawRecords = $Checks.Split(',')
    if ($rawRecords.Count -gt 100) { Add-ParameterError -Parameter 'Checks' -Message 'at most 100 checks'; $valid = $false }
    # Every record is validated before any check runs: a list with one bad record is refused whole.
    for ($r = 0; $valid -and $r -lt $rawRecords.Count; $r++) {
        $fields = ConvertFrom-CheckRecord $rawRecords[$r]
        $bad = $null
        if ($null -eq $fields) { $bad = 'a field that is not base64' }
        elseif ($fields.Count -lt 6) { $bad = 'too few fields' }
        else {
            $invalid = Get-InvalidField -F $fields
            if ($invalid) { $bad = 'invalid field ' + $invalid }
        }
        if ($bad) { Add-ParameterError -Parameter 'Checks' -Message ('check {0}: {1}' -f $r, $bad); $valid = $false }
        else { [void]$records.Add($fields) }
    }
}
$results = New-Object System.Collections.ArrayList
if ($valid) {
    foreach ($fields in $records) { [void]$results.Add((Invoke-Check -F $fields)) }
}
$script:Data.results = @($results.ToArray())
$script:Data.finishedAt = Get-NowUtc
Write-Document
