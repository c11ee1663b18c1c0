# patchpilot-script: install@1.0.0
# Installs exactly the WUA update ids it is given (phase 05); re-runs report AlreadyInstalled. With Fence, a failed
# pre-install hook earlier in the same run command stops it: every update NotAttempted, error hook-failed. With
# RebootMarker, a restart it needs leaves that per-run marker for the reboot section later in the same command.
# Windows PowerShell 5.1. Prints one JSON document on stdout (contract: lib/schemas/device/install.ts; docs/device-scripts.md).
# Parameters arrive as strings and are validated below; they are never evaluated.
param([string]$UpdateIds = '', [string]$Fence = '', [string]$RebootMarker = '')

$script:ScriptId = 'install'
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

# The same pattern as WuaUpdateIdSchema (lib/schemas/device/parameters.ts); \z, because $ also matches before a newline.
$script:GuidPattern = '\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\z'
$script:ResultNames = @{ 0 = 'NotAttempted'; 1 = 'NotAttempted'; 2 = 'Succeeded'; 3 = 'SucceededWithErrors'; 4 = 'Failed'; 5 = 'Aborted' }

function New-InstallResult {
    param([string]$UpdateId, $Update, [string]$Result, $ResultCode, $HResult, [bool]$RebootRequired)
    $entry = [ordered]@{ updateId = $UpdateId }
    if ($null -ne $Update) {
        $kbs = @($Update.KBArticleIDs)
        if ($kbs.Count -gt 0) { $entry.kb = 'KB' + [string]$kbs[0] }
        # The contract allows 2000 characters; a longer title is cut rather than failing the whole document.
        $title = [string]$Update.Title
        if ($title.Length -gt 2000) { $title = $title.Substring(0, 2000) }
        $entry.title = $title
    }
    $entry.result = $Result
    if ($null -ne $ResultCode) { $entry.resultCode = [int]$ResultCode }
    if ($null -ne $HResult) { $entry.hresult = [int]$HResult }
    $entry.rebootRequired = $RebootRequired
    $entry.finishedAt = Get-NowUtc
    return $entry
}

# Installs exactly the requested update ids. Already-installed ones (a re-run after a crash or reboot) are reported
# as AlreadyInstalled; ids WUA no longer offers as NotFound.
function Install-RequestedUpdates {
    param([string[]]$Ids)
    $session = New-Object -ComObject Microsoft.Update.Session
    $session.ClientApplicationID = 'PatchPilot'
    $searcher = $session.CreateUpdateSearcher()
    $found = @{}
    $pending = New-Object -ComObject Microsoft.Update.UpdateColl
    foreach ($id in $Ids) {
        # The id is a validated GUID, so the criteria string cannot be bent into another query.
        $result = $searcher.Search("UpdateID='$id'")
        $matched = @($result.Updates)
        if ($matched.Count -gt 0) {
            $found[$id] = $matched[0]
            if (-not $matched[0].IsInstalled) {
                if (-not $matched[0].EulaAccepted) { $matched[0].AcceptEula() }
                [void]$pending.Add($matched[0])
            }
        }
    }
    $outcomes = @{}
    if ($pending.Count -gt 0) {
        $downloader = $session.CreateUpdateDownloader()
        $downloader.Updates = $pending
        [void]$downloader.Download()
        $installer = $session.CreateUpdateInstaller()
        $installer.Updates = $pending
        $installResult = $installer.Install()
        for ($i = 0; $i -lt $pending.Count; $i++) {
            $outcomes[[string]$pending.Item($i).Identity.UpdateID] = $installResult.GetUpdateResult($i)
        }
    }
    foreach ($id in $Ids) {
        if (-not $found.ContainsKey($id)) {
            New-InstallResult -UpdateId $id -Update $null -Result 'NotFound' -ResultCode $null -HResult $null -RebootRequired $false
            continue
        }
        $update = $found[$id]
        $key = [string]$update.Identity.UpdateID
        if (-not $outcomes.ContainsKey($key)) {
            New-InstallResult -UpdateId $id -Update $update -Result 'AlreadyInstalled' -ResultCode $null -HResult $null -RebootRequired $false
            continue
        }
        $outcome = $outcomes[$key]
        $name = $script:ResultNames[[int]$outcome.ResultCode]
        New-InstallResult -UpdateId $id -Update $update -Result $name -ResultCode $outcome.ResultCode -HResult $outcome.HResult -RebootRequired ([bool]$outcome.RebootRequired)
    }
}

$script:Data.startedAt = Get-NowUtc
$ids = @()
$valid = $true
if (-not $UpdateIds) {
    Add-ParameterError -Parameter 'UpdateIds' -Message 'must list at least one update id'
    $valid = $false
} else {
    $ids = @($UpdateIds.Split(','))
    if ($ids.Count -gt 200) {
        Add-ParameterError -Parameter 'UpdateIds' -Message 'at most 200 update ids'
        $valid = $false
    }
    for ($i = 0; $valid -and $i -lt $ids.Count; $i++) {
        if ($ids[$i] -notmatch $script:GuidPattern) {
            Add-ParameterError -Parameter 'UpdateIds' -Message ('item {0} is not a WUA update id (GUID)' -f $i)
            $valid = $false
        }
    }
}
# A failed pre-install hook earlier in this same run command (hooks.ps1 left the fence Fence names) stops every
# install: the services it was to stop may still run. The fence is read once and removed.
$hookFailed = ''
if ($Fence) {
    if ($Fence -cnotmatch '^[A-Za-z0-9-]{8,64}$') {
        Add-ParameterError -Parameter 'Fence' -Message 'must be 8-64 letters, digits or -'
        $valid = $false
    } else {
        $fenceFile = Join-Path ([System.IO.Path]::GetTempPath()) ('patchpilot-hook-failed-{0}' -f $Fence)
        if (Test-Path -LiteralPath $fenceFile -PathType Leaf) {
            $hookFailed = [System.IO.File]::ReadAllText($fenceFile).Trim()
            if ($hookFailed.Length -gt 1000) { $hookFailed = $hookFailed.Substring(0, 1000) }
            if (-not $hookFailed) { $hookFailed = 'a pre-install hook failed' }
            Remove-Item -LiteralPath $fenceFile -Force -ErrorAction SilentlyContinue
        }
    }
}
$script:Data.results = @()
if ($valid -and $hookFailed) {
    Add-ScriptError -Section 'results' -Message ('pre-install hook failed ({0}): nothing was installed' -f $hookFailed) -Code 'hook-failed'
    $script:Data.results = @(foreach ($id in $ids) { New-InstallResult -UpdateId $id -Update $null -Result 'NotAttempted' -ResultCode $null -HResult $null -RebootRequired $false })
} elseif ($valid) {
    try {
        $script:Data.results = @(Install-RequestedUpdates -Ids $ids)
    } catch {
        Add-ScriptError -Section 'results' -Message $_.Exception.Message -Code (Get-ErrorCode $_)
        # The updates the failure left unreported are NotAttempted, so every requested id has a result.
        $script:Data.results = @(foreach ($id in $ids) { New-InstallResult -UpdateId $id -Update $null -Result 'NotAttempted' -ResultCode $null -HResult $null -RebootRequired $false })
    }
}
$rebootRequired = $false
try { $rebootRequired = [bool](Get-PendingReboot).pending } catch { Add-ScriptError -Section 'rebootRequired' -Message $_.Exception.Message -Code (Get-ErrorCode $_) }
foreach ($r in $script:Data.results) { if ($r.rebootRequired) { $rebootRequired = $true } }
# The reboot marker (issue 22): the reboot section later in this same run command restarts the device only when it
# finds it. Written to a temporary file and renamed into place when a restart is needed, removed when none is, so a
# marker never outlives the install that wrote it.
if ($RebootMarker) {
    if ($RebootMarker -cnotmatch '^[A-Za-z0-9-]{8,64}$') {
        Add-ParameterError -Parameter 'RebootMarker' -Message 'must be 8-64 letters, digits or -'
    } else {
        $markerFile = Join-Path ([System.IO.Path]::GetTempPath()) ('patchpilot-reboot-required-{0}' -f $RebootMarker)
        if ($rebootRequired) {
            $staged = [System.IO.Path]::GetTempFileName()
            [System.IO.File]::WriteAllText($staged, $script:ScriptId)
            Move-Item -LiteralPath $staged -Destination $markerFile -Force
        } else {
            Remove-Item -LiteralPath $markerFile -Force -ErrorAction SilentlyContinue
        }
    }
}
$script:Data.finishedAt = Get-NowUtc
$script:Data.rebootRequired = $rebootRequired
Write-Document
