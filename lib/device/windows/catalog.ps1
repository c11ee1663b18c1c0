# patchpilot-script: catalog@1.0.0
# Lists applicable updates through the Windows Update Agent for phase 03.
# Windows PowerShell 5.1. Prints one JSON document on stdout (contract: lib/schemas/device/catalog.ts; docs/device-scripts.md).
# Parameters arrive as strings and are validated below; they are never evaluated.
param([string]$Simulate = 'false', [string]$IncludeDrivers = 'false')

$script:ScriptId = 'catalog'
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

# Classification category ids are stable; their names are localized, so known ones are reported in English.
$script:ClassificationNames = @{
    '0fa1201d-4330-4fa8-8ae9-b877473b6441' = 'Security Updates'
    'e6cf1350-c01b-414d-a61f-263d14d133b4' = 'Critical Updates'
    'e0789628-ce08-4437-be74-2495b842f43b' = 'Definition Updates'
    'ebfc1fc5-71a4-4f7b-9aca-3b9a503104a0' = 'Drivers'
    'b54e7d24-7add-428f-8b75-90a396fa584f' = 'Feature Packs'
    '68c5b0a3-d1a6-4553-ae49-01d3a7827828' = 'Service Packs'
    'b4832bd8-e735-4761-8daf-37f882276dab' = 'Tools'
    '28bc880e-0592-4cbf-8f95-c79b17911d5f' = 'Update Rollups'
    'cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83' = 'Updates'
    '3689bdc8-b205-4af4-8d4a-a63924c5e9d5' = 'Upgrades'
}

# WUA InstallationBehavior.RebootBehavior by name.
$script:RebootBehaviors = @{ 0 = 'NeverReboots'; 1 = 'AlwaysRequiresReboot'; 2 = 'CanRequestReboot' }

# Software updates always; driver updates only when the policy opts into the Driver classification (IncludeDrivers):
# drivers change hardware behaviour and are opted into per tenant or client. WUA allows OR only between whole
# conditions at the top level of the criteria (IUpdateSearcher::Search).
$script:SoftwareCriteria = "IsInstalled=0 and IsHidden=0 and Type='Software'"
$script:DriverCriteria = "IsInstalled=0 and IsHidden=0 and Type='Driver'"

# Applicable updates exactly as WUA describes them; the backend maps classification and severity to policy terms.
function Get-ApplicableUpdates {
    param([bool]$Drivers)
    $session = New-Object -ComObject Microsoft.Update.Session
    $session.ClientApplicationID = 'PatchPilot'
    $searcher = $session.CreateUpdateSearcher()
    $criteria = $script:SoftwareCriteria
    if ($Drivers) { $criteria = $script:SoftwareCriteria + ' or ' + $script:DriverCriteria }
    $result = $searcher.Search($criteria)
    foreach ($update in @($result.Updates)) {
        $classification = ''
        foreach ($category in @($update.Categories)) {
            if ($category.Type -eq 'UpdateClassification') {
                $classification = [string]$category.Name
                $english = $script:ClassificationNames[([string]$category.CategoryID).ToLowerInvariant()]
                if ($english) { $classification = $english }
                break
            }
        }
        $severity = $null
        if ($update.MsrcSeverity) { $severity = [string]$update.MsrcSeverity }
        $releaseDate = $null
        if ($update.LastDeploymentChangeTime) { $releaseDate = ConvertTo-IsoUtc $update.LastDeploymentChangeTime }
        # The contract allows 2000 characters; a longer title is cut rather than failing the whole catalog.
        $title = [string]$update.Title
        if ($title.Length -gt 2000) { $title = $title.Substring(0, 2000) }
        $reboot = $script:RebootBehaviors[[int]$update.InstallationBehavior.RebootBehavior]
        if (-not $reboot) { $reboot = 'CanRequestReboot' }
        $entry = [ordered]@{
            updateId = [string]$update.Identity.UpdateID
            revision = [int]$update.Identity.RevisionNumber
            title = $title
            classification = $classification
            severity = $severity
            releaseDate = $releaseDate
            sizeBytes = [int64]$update.MaxDownloadSize
            rebootBehavior = $reboot
        }
        $kbs = @($update.KBArticleIDs)
        if ($kbs.Count -gt 0) { $entry.kb = 'KB' + [string]$kbs[0] }
        $entry
    }
}

$script:Data.searchedAt = Get-NowUtc
$script:Data.agent = 'wua'
# Simulate only matters on Linux (package-list refresh); the WUA search changes nothing. It is still validated.
$simulateValue = $false
if ($Simulate -ceq 'true') { $simulateValue = $true }
elseif ($Simulate -cne 'false') { Add-ParameterError -Parameter 'Simulate' -Message 'must be true or false' }
$script:Data.simulate = $simulateValue
$driversValue = $false
if ($IncludeDrivers -ceq 'true') { $driversValue = $true }
elseif ($IncludeDrivers -cne 'false') { Add-ParameterError -Parameter 'IncludeDrivers' -Message 'must be true or false' }
if (($Simulate -ceq 'true' -or $Simulate -ceq 'false') -and ($IncludeDrivers -ceq 'true' -or $IncludeDrivers -ceq 'false')) {
    Invoke-Section -Name 'updates' -List -Body { Get-ApplicableUpdates -Drivers $driversValue }
} else {
    $script:Data.updates = $null
}
Write-Document
