# patchpilot-script: uninstall@1.0.0
# Remediation (issue 20): removes the KBs it is given, newest first as given (wusa /uninstall /quiet /norestart; DISM
# /Remove-Package for a package wusa cannot remove); re-runs report NotInstalled for what is already gone.
# Windows PowerShell 5.1. Prints one JSON document on stdout (contract: lib/schemas/device/uninstall.ts; docs/device-scripts.md).
# Parameters arrive as strings and are validated below; they are never evaluated.
param([string]$UpdateIds = '')

$script:ScriptId = 'uninstall'
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

# The same pattern as UninstallParamsSchema (lib/schemas/device/parameters.ts); \z, because $ also matches before a newline.
$script:KbPattern = '\AKB[0-9]{6,8}\z'
# wusa.exe's exit codes: done, done with a restart needed, and WU_S_ALREADY_UNINSTALLED (the update is not installed).
$script:WusaDone = 0
$script:WusaRestart = 3010
$script:WusaNotInstalled = 2359303

function New-UninstallResult {
    param([string]$Kb, [string]$Result, [string]$Method, $ExitCode, [bool]$RebootRequired, [string]$Detail)
    $entry = [ordered]@{ updateId = $Kb; kb = $Kb; result = $Result; method = $Method }
    if ($null -ne $ExitCode) { $entry.exitCode = [int]$ExitCode }
    $entry.rebootRequired = $RebootRequired
    if ($Detail) {
        if ($Detail.Length -gt 2000) { $Detail = $Detail.Substring(0, 2000) }
        $entry.detail = $Detail
    }
    $entry.finishedAt = Get-NowUtc
    return $entry
}

# The installed KBs, as Win32_QuickFixEngineering lists them (what wusa can remove).
function Get-InstalledKbs {
    $set = @{}
    foreach ($q in @(Get-CimInstance -ClassName Win32_QuickFixEngineering)) {
        $id = [string]$q.HotFixID
        if ($id) { $set[$id.ToUpperInvariant()] = $true }
    }
    return $set
}

# The CBS package names DISM lists for a KB (Package_for_KB5012345~...); none for a combined or permanent package.
function Get-DismPackageNames {
    param([string]$Kb)
    $output = @(& dism.exe '/Online' '/Get-Packages' '/Format:Table' '/English' 2>&1)
    if ($LASTEXITCODE -ne 0) { throw ('dism.exe /Get-Packages exited {0}' -f $LASTEXITCODE) }
    foreach ($line in $output) {
        $name = ([string]$line).Split('|')[0].Trim()
        if ($name.StartsWith(('Package_for_{0}~' -f $Kb), [StringComparison]::OrdinalIgnoreCase)) { $name }
    }
}

# Removes one KB: wusa first; when wusa refuses, DISM by the package's own name. Arguments go to the executables as
# an array, never through a command line built as text.
function Remove-OneKb {
    param([string]$Kb)
    $number = $Kb.Substring(2)
    $wusaOutput = @(& wusa.exe '/uninstall' ('/kb:{0}' -f $number) '/quiet' '/norestart' 2>&1)
    $wusa = $LASTEXITCODE
    if ($wusa -eq $script:WusaDone) { return New-UninstallResult -Kb $Kb -Result 'Uninstalled' -Method 'wusa' -ExitCode $wusa -RebootRequired $false }
    if ($wusa -eq $script:WusaRestart) { return New-UninstallResult -Kb $Kb -Result 'Uninstalled' -Method 'wusa' -ExitCode $wusa -RebootRequired $true }
    if ($wusa -eq $script:WusaNotInstalled) { return New-UninstallResult -Kb $Kb -Result 'NotInstalled' -Method 'wusa' -ExitCode $wusa -RebootRequired $false -Detail 'wusa: the update is not installed' }
    $names = @(Get-DismPackageNames -Kb $Kb)
    if ($names.Count -eq 0) {
        # Nothing DISM could remove by name (a permanent package, or one combined with the servicing stack).
        return New-UninstallResult -Kb $Kb -Result 'NotUninstallable' -Method 'wusa' -ExitCode $wusa -RebootRequired $false -Detail ('wusa exited {0} and DISM lists no removable package for {1}: {2}' -f $wusa, $Kb, (($wusaOutput | ForEach-Object { [string]$_ }) -join ' '))
    }
    $restart = $false
    foreach ($name in $names) {
        $dismOutput = @(& dism.exe '/Online' '/Remove-Package' ('/PackageName:{0}' -f $name) '/Quiet' '/NoRestart' 2>&1)
        $dism = $LASTEXITCODE
        if ($dism -eq 3010) { $restart = $true; continue }
        if ($dism -ne 0) {
            return New-UninstallResult -Kb $Kb -Result 'Failed' -Method 'dism' -ExitCode $dism -RebootRequired $restart -Detail ('dism.exe /Remove-Package {0} exited {1}: {2}' -f $name, $dism, (($dismOutput | ForEach-Object { [string]$_ }) -join ' '))
        }
    }
    return New-UninstallResult -Kb $Kb -Result 'Uninstalled' -Method 'dism' -ExitCode ($(if ($restart) { 3010 } else { 0 })) -RebootRequired $restart
}

$script:Data.startedAt = Get-NowUtc
$kbs = @()
$valid = $true
if (-not $UpdateIds) {
    Add-ParameterError -Parameter 'UpdateIds' -Message 'must list at least one KB'
    $valid = $false
} else {
    $kbs = @($UpdateIds.Split(','))
    if ($kbs.Count -gt 50) {
        Add-ParameterError -Parameter 'UpdateIds' -Message 'at most 50 KBs'
        $valid = $false
    }
    for ($i = 0; $valid -and $i -lt $kbs.Count; $i++) {
        if ($kbs[$i] -cnotmatch $script:KbPattern) {
            Add-ParameterError -Parameter 'UpdateIds' -Message ('item {0} is not a KB number like KB5012345' -f $i)
            $valid = $false
        }
    }
}
$script:Data.results = @()
if ($valid) {
    $results = New-Object System.Collections.ArrayList
    try {
        $installed = Get-InstalledKbs
        foreach ($kb in $kbs) {
            if (-not $installed.ContainsKey($kb)) {
                [void]$results.Add((New-UninstallResult -Kb $kb -Result 'NotInstalled' -Method 'none' -ExitCode $null -RebootRequired $false -Detail 'not listed by Win32_QuickFixEngineering'))
                continue
            }
            [void]$results.Add((Remove-OneKb -Kb $kb))
        }
    } catch {
        Add-ScriptError -Section 'results' -Message $_.Exception.Message -Code (Get-ErrorCode $_)
        # The KBs the failure left unreported are NotAttempted, so every requested KB has a result.
        $done = @{}
        foreach ($r in $results) { $done[$r.kb] = $true }
        foreach ($kb in $kbs) { if (-not $done.ContainsKey($kb)) { [void]$results.Add((New-UninstallResult -Kb $kb -Result 'NotAttempted' -Method 'none' -ExitCode $null -RebootRequired $false)) } }
    }
    $script:Data.results = @($results.ToArray())
}
$rebootRequired = $false
try { $rebootRequired = [bool](Get-PendingReboot).pending } catch { Add-ScriptError -Section 'rebootRequired' -Message $_.Exception.Message -Code (Get-ErrorCode $_) }
foreach ($r in $script:Data.results) { if ($r.rebootRequired) { $rebootRequired = $true } }
$script:Data.finishedAt = Get-NowUtc
$script:Data.rebootRequired = $rebootRequired
Write-Document
