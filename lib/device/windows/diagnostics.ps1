# patchpilot-script: diagnostics@1.0.0
# Collects event-log errors since SinceUtc (run start minus the policy lookback), Windows Update errors, services that
# terminated unexpectedly since boot and disk space (phase 09).
# Windows PowerShell 5.1. Prints one JSON document on stdout (contract: lib/schemas/device/diagnostics.ts; docs/device-scripts.md).
# Parameters arrive as strings and are validated below; they are never evaluated.
param([string]$SinceUtc = '', [string]$MaxEvents = '100')

$script:ScriptId = 'diagnostics'
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

# The same patterns as DiagnosticsParamsSchema (lib/schemas/device/parameters.ts).
$sincePattern = '\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z\z'
$maxPattern = '\A[1-9][0-9]{0,2}\z'
$script:LevelNames = @{ 1 = 'Critical'; 2 = 'Error'; 3 = 'Warning' }

# Events matching a filter; "no events found" is an empty result, not an error.
function Get-EventsOrNone {
    param([hashtable]$Filter, [int]$Max)
    try {
        return @(Get-WinEvent -FilterHashtable $Filter -MaxEvents $Max -ErrorAction Stop)
    } catch {
        if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { return @() }
        throw
    }
}

function Get-EventLogErrorFacts {
    param([datetime]$Since, [int]$Max)
    foreach ($record in (Get-EventsOrNone -Filter @{ LogName = @('System', 'Application'); Level = @(1, 2); StartTime = $Since } -Max $Max)) {
        $message = ''
        try { $message = [string]$record.Message } catch { $message = '' }
        if ($message.Length -gt 2000) { $message = $message.Substring(0, 2000) }
        [ordered]@{
            log = [string]$record.LogName
            source = [string]$record.ProviderName
            id = [int]$record.Id
            level = $script:LevelNames[[int]$record.Level]
            time = ConvertTo-IsoUtc $record.TimeCreated
            message = $message
        }
    }
}

# Windows Update client errors and warnings from the System log, then failed or aborted history entries.
function Get-UpdateAgentErrorFacts {
    param([datetime]$Since, [int]$Max)
    $filter = @{ LogName = 'System'; ProviderName = 'Microsoft-Windows-WindowsUpdateClient'; Level = @(1, 2, 3); StartTime = $Since }
    foreach ($record in (Get-EventsOrNone -Filter $filter -Max $Max)) {
        $message = ''
        try { $message = [string]$record.Message } catch { $message = '' }
        [ordered]@{ time = ConvertTo-IsoUtc $record.TimeCreated; message = $message }
    }
    $searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
    $count = [Math]::Min($searcher.GetTotalHistoryCount(), 200)
    if ($count -gt 0) {
        foreach ($item in @($searcher.QueryHistory(0, $count))) {
            # Compared as UTC texts: ConvertTo-IsoUtc knows that WUA's kind-less dates are UTC.
            if ((ConvertTo-IsoUtc $item.Date) -lt (ConvertTo-IsoUtc $Since)) { continue }
            if ($item.ResultCode -ne 4 -and $item.ResultCode -ne 5) { continue }
            [ordered]@{ time = ConvertTo-IsoUtc $item.Date; hresult = [int]$item.HResult; message = [string]$item.Title }
        }
    }
}

# Services the Service Control Manager saw terminate unexpectedly since the last boot (7031: terminated, restart
# action taken; 7034: terminated, no action), counted per service. The service's name is the event's first insertion
# string (param1), which is not localized, unlike the message text.
function Get-ServiceRestartFacts {
    $boot = (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime
    $filter = @{ LogName = 'System'; ProviderName = 'Service Control Manager'; Id = @(7031, 7034); StartTime = $boot }
    $counts = [ordered]@{}
    foreach ($record in (Get-EventsOrNone -Filter $filter -Max 5000)) {
        $name = ''
        try { if (@($record.Properties).Count -gt 0) { $name = [string]$record.Properties[0].Value } } catch { $name = '' }
        if (-not $name) { $name = '(unknown service)' }
        if ($counts.Contains($name)) { $counts[$name] = $counts[$name] + 1 } else { $counts[$name] = 1 }
    }
    foreach ($key in @($counts.Keys)) { [ordered]@{ service = [string]$key; restarts = [int]$counts[$key] } }
}

$script:Data.collectedAt = Get-NowUtc
$valid = $true
$since = [datetime]::MinValue
$max = 100
if ($SinceUtc -cmatch $sincePattern) {
    $styles = [System.Globalization.DateTimeStyles]'AdjustToUniversal, AssumeUniversal'
    $since = [datetime]::Parse($SinceUtc, $script:Invariant, $styles)
} else {
    Add-ParameterError -Parameter 'SinceUtc' -Message 'must be an ISO 8601 UTC time like 2026-01-20T02:00:00Z'
    $valid = $false
}
if ($MaxEvents -cmatch $maxPattern -and [int]$MaxEvents -le 500) { $max = [int]$MaxEvents }
else { Add-ParameterError -Parameter 'MaxEvents' -Message 'must be an integer from 1 to 500'; $valid = $false }

if ($valid) {
    Invoke-Section -Name 'eventLogErrors' -List -Body { Get-EventLogErrorFacts -Since $since -Max $max }
    Invoke-Section -Name 'updateAgentErrors' -List -Body { @(Get-UpdateAgentErrorFacts -Since $since -Max $max) | Select-Object -First $max }
    Invoke-Section -Name 'serviceRestarts' -List -Body { Get-ServiceRestartFacts }
} else {
    $script:Data.eventLogErrors = $null
    $script:Data.updateAgentErrors = $null
    $script:Data.serviceRestarts = $null
}
Invoke-Section -Name 'disks' -List -Body { Get-DiskFacts }
Write-Document
