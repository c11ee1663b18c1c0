# patchpilot-script: reboot@1.0.0
# Schedules a restart with a comment and a short delay (phase 06); reports the boot time before it. With RebootMarker
# (the reboot section of an install's run command, issue 22), only when the install left that marker: it is read once
# and removed, and without it nothing is scheduled and the document says so (requested false).
# Windows PowerShell 5.1. Prints one JSON document on stdout (contract: lib/schemas/device/reboot.ts; docs/device-scripts.md).
# Parameters arrive as strings and are validated below; they are never evaluated.
param([string]$DelaySeconds = '', [string]$Comment = '', [string]$RebootMarker = '')

$script:ScriptId = 'reboot'
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

# The same patterns as RebootParamsSchema (lib/schemas/device/parameters.ts); \z, because $ also matches before a newline.
$delayPattern = '\A(0|[1-9][0-9]{0,2})\z'
$commentPattern = '\A[A-Za-z0-9 ._:/()-]{0,200}\z'

$bootBefore = $null
try { $bootBefore = Get-LastBootUtc } catch { Add-ScriptError -Section 'bootTimeBefore' -Message $_.Exception.Message -Code (Get-ErrorCode $_) }

$valid = $true
$delay = 0
if ($DelaySeconds -cmatch $delayPattern -and [int]$DelaySeconds -le 600) { $delay = [int]$DelaySeconds }
else { Add-ParameterError -Parameter 'DelaySeconds' -Message 'must be an integer from 0 to 600'; $valid = $false }
if ($Comment -cnotmatch $commentPattern) {
    Add-ParameterError -Parameter 'Comment' -Message 'must be plain text (letters, digits, space . _ : / ( ) -), at most 200 characters'
    $valid = $false
}

# The install earlier in this same run command leaves the marker when it needs a restart (install.ps1 RebootMarker).
$requested = $true
if ($RebootMarker) {
    if ($RebootMarker -cnotmatch '^[A-Za-z0-9-]{8,64}$') {
        Add-ParameterError -Parameter 'RebootMarker' -Message 'must be 8-64 letters, digits or -'
        $valid = $false
    } else {
        $markerFile = Join-Path ([System.IO.Path]::GetTempPath()) ('patchpilot-reboot-required-{0}' -f $RebootMarker)
        if (Test-Path -LiteralPath $markerFile -PathType Leaf) { Remove-Item -LiteralPath $markerFile -Force }
        else { $requested = $false }
    }
}

$scheduledAt = Get-NowUtc
$scheduled = $false
if ($valid -and $requested -and $bootBefore) {
    # Arguments go to shutdown.exe as an array, never through a command line PatchPilot builds as text.
    # /d p:2:17 records a planned restart for an operating system hotfix in the shutdown event log.
    $arguments = @('/r', '/t', [string]$delay, '/d', 'p:2:17', '/c', ('PatchPilot: ' + $Comment))
    # Windows PowerShell 5.1 turns a native command's redirected stderr into error records, which
    # $ErrorActionPreference = 'Stop' makes fatal (the document would never print): the exit code decides, stderr
    # only explains. A shutdown.exe that cannot be started is reported, not fatal, too.
    $previousPreference = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        $output = & shutdown.exe $arguments 2>&1
        if ($LASTEXITCODE -eq 0) { $scheduled = $true }
        else { Add-ScriptError -Section 'scheduled' -Message ('shutdown.exe exited {0}: {1}' -f $LASTEXITCODE, ($output -join ' ')) -Code ('exit-{0}' -f $LASTEXITCODE) }
    } catch {
        Add-ScriptError -Section 'scheduled' -Message $_.Exception.Message -Code (Get-ErrorCode $_)
    } finally {
        $ErrorActionPreference = $previousPreference
    }
}

# The schema needs a boot time; without one the document still says when it was asked (and errors says why).
if (-not $bootBefore) { $bootBefore = $scheduledAt }
$script:Data.bootTimeBefore = $bootBefore
$script:Data.scheduledAt = $scheduledAt
$script:Data.delaySeconds = $delay
$script:Data.method = 'shutdown.exe'
$script:Data.scheduled = $scheduled
$script:Data.requested = $requested
Write-Document
