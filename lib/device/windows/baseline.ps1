# patchpilot-script: baseline@1.0.0
# Collects device facts for phases 02 and 07 (baseline and post snapshot).
# Windows PowerShell 5.1. Prints one JSON document on stdout (contract: lib/schemas/device/baseline.ts; docs/device-scripts.md).
# Parameters arrive as strings and are validated below; they are never evaluated.
param()

$script:ScriptId = 'baseline'
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

function Get-OsFacts {
    $cv = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $ubr = 0
    if ($cv.PSObject.Properties['UBR']) { $ubr = [int]$cv.UBR }
    return [ordered]@{
        family = 'windows'
        name = [string]$os.Caption
        version = [string]$os.Version
        build = ('{0}.{1}' -f $cv.CurrentBuild, $ubr)
    }
}

function Get-InstalledUpdateFacts {
    foreach ($fix in @(Get-CimInstance -ClassName Win32_QuickFixEngineering)) {
        $entry = [ordered]@{ id = [string]$fix.HotFixID }
        if ($fix.HotFixID -match '\AKB\d+\z') { $entry.kb = [string]$fix.HotFixID }
        # InstalledOn is a locale-formatted string in WMI; InstallDate is usually empty.
        $installedOn = $null
        try { if ($fix.PSObject.Properties['InstalledOn'] -and $fix.InstalledOn) { $installedOn = ConvertTo-IsoUtc ([datetime]$fix.InstalledOn) } } catch { $installedOn = $null }
        if ($installedOn) { $entry.installedOn = $installedOn }
        $entry
    }
}

# Windows Update history (newest 500), with result codes, so an install rolled back at reboot stays visible.
function Get-UpdateHistoryFacts {
    $searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
    $count = $searcher.GetTotalHistoryCount()
    if ($count -eq 0) { return }
    if ($count -gt 500) { $count = 500 }
    foreach ($item in @($searcher.QueryHistory(0, $count))) {
        $title = [string]$item.Title
        if (-not $title) { continue }
        $operation = 'Other'
        if ($item.Operation -eq 1) { $operation = 'Installation' } elseif ($item.Operation -eq 2) { $operation = 'Uninstallation' }
        $entry = [ordered]@{
            title = $title
            date = ConvertTo-IsoUtc $item.Date
            operation = $operation
            resultCode = [int]$item.ResultCode
            hresult = [int]$item.HResult
        }
        if ($title -match '\(?(KB\d{6,8})\)?') { $entry.kb = $Matches[1] }
        $entry
    }
}

function Get-ServiceFacts {
    foreach ($svc in @(Get-CimInstance -ClassName Win32_Service)) {
        [ordered]@{ name = [string]$svc.Name; state = [string]$svc.State; startType = [string]$svc.StartMode }
    }
}

function Get-DriverFacts {
    foreach ($drv in @(Get-CimInstance -ClassName Win32_PnPSignedDriver)) {
        if (-not $drv.DeviceName) { continue }
        $entry = [ordered]@{ name = [string]$drv.DeviceName; version = [string]$drv.DriverVersion }
        if ($drv.DriverProviderName) { $entry.provider = [string]$drv.DriverProviderName }
        $entry
    }
}

# Installed programs from both uninstall hives (64-bit and 32-bit).
function Get-AppFacts {
    $hives = @(
        'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
        'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
    )
    foreach ($hive in $hives) {
        if (-not (Test-Path -LiteralPath $hive)) { continue }
        foreach ($key in @(Get-ChildItem -LiteralPath $hive)) {
            $props = Get-ItemProperty -LiteralPath $key.PSPath
            if (-not $props.PSObject.Properties['DisplayName'] -or -not $props.DisplayName) { continue }
            $entry = [ordered]@{ name = [string]$props.DisplayName }
            if ($props.PSObject.Properties['DisplayVersion'] -and $props.DisplayVersion) { $entry.version = [string]$props.DisplayVersion }
            if ($props.PSObject.Properties['Publisher'] -and $props.Publisher) { $entry.publisher = [string]$props.Publisher }
            $entry
        }
    }
}

# Another installer already at work (PatchPilot stops with 170 instead of racing it): WUA's own flag
# (IUpdateInstaller.IsBusy: an installation or uninstallation is in progress), then the standalone installer wusa.exe.
function Get-InstallInProgress {
    $installer = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateInstaller()
    if ($installer.IsBusy) {
        return [ordered]@{ busy = $true; by = 'Windows Update'; detail = 'IUpdateInstaller.IsBusy: an installation or uninstallation is in progress' }
    }
    $wusa = @(Get-Process -Name 'wusa' -ErrorAction SilentlyContinue)
    if ($wusa.Count -gt 0) {
        return [ordered]@{ busy = $true; by = 'wusa.exe'; detail = "the standalone update installer is running (pid $($wusa[0].Id))" }
    }
    return [ordered]@{ busy = $false }
}

$script:Data.capturedAt = Get-NowUtc
Invoke-Section -Name 'os' -Body { Get-OsFacts }
Invoke-Section -Name 'installedUpdates' -List -Body { Get-InstalledUpdateFacts }
Invoke-Section -Name 'updateHistory' -List -Body { Get-UpdateHistoryFacts }
Invoke-Section -Name 'services' -List -Body { Get-ServiceFacts }
Invoke-Section -Name 'drivers' -List -Body { Get-DriverFacts }
Invoke-Section -Name 'apps' -List -Body { Get-AppFacts }
Invoke-Section -Name 'pendingReboot' -Body { Get-PendingReboot }
Invoke-Section -Name 'lastBootTime' -Body { Get-LastBootUtc }
Invoke-Section -Name 'disks' -List -Body { Get-DiskFacts }
Invoke-Section -Name 'installInProgress' -Body { Get-InstallInProgress }
Write-Document
