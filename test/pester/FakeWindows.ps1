# A fake Windows server for the device-script suites, dot-sourced in each *.Tests.ps1 BeforeAll.
#
# The scripts in lib/device/windows run unchanged (the text the registry hashes). PowerShell 7.6 on Linux has
# neither WMI/CIM, the event log, the registry provider nor COM, so every Windows surface a script touches is
# replaced where the script meets it:
#   - commands Linux lacks (Get-CimInstance, Get-WinEvent, Get-Service, Test-NetConnection) get a stub function
#     first, so Pester can Mock them (Mock needs a command to copy the parameters of);
#   - New-Object gets a wrapper with the -ComObject parameter set Windows has (it forwards every .NET type to the
#     real cmdlet), and the Mock answers -ComObject Microsoft.Update.* with fake WUA objects;
#   - the registry reads (Test-Path, Get-ItemProperty, Get-ChildItem on HKLM:) are mocked with ParameterFilters on
#     HKLM: paths only, so file-system calls still reach the real cmdlets;
#   - shutdown.exe is a real executable on PATH (a bash script) that logs its argv and exits with the code the test
#     sets, so the native-argument passing and $LASTEXITCODE are real too;
#   - Restart-Computer, Stop-Computer and Invoke-Expression are mocked to throw: no script may call them.
#
# Fake WUA objects are PSCustomObjects with ScriptMethods. A ScriptMethod that throws a COMException reaches the
# script wrapped in a MethodInvocationException ("Exception calling "Search" with "1" argument(s): ..."), exactly as
# a failing COM method call does on Windows.

Set-StrictMode -Version Latest

$global:HklmPrefix = 'Microsoft.PowerShell.Core\Registry::HKEY_LOCAL_MACHINE\'

# --- stubs for commands pwsh on Linux does not have (Mock replaces them in every test) ---
function global:Get-CimInstance {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$ClassName, [string]$Filter, [string]$Namespace, [string]$Query)
    throw "Get-CimInstance $ClassName is not faked"
}
function global:Get-WinEvent {
    [CmdletBinding()]
    param([hashtable[]]$FilterHashtable, [long]$MaxEvents, [string[]]$LogName, [switch]$Oldest)
    throw 'Get-WinEvent is not faked'
}
function global:Get-Service {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string[]]$Name)
    throw 'Get-Service is not faked'
}
function global:Test-NetConnection {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$ComputerName, [int]$Port, [switch]$InformationLevel)
    throw 'Test-NetConnection is not faked'
}
function global:Get-EventLog {
    [CmdletBinding()]
    param([Parameter(Position = 0)][string]$LogName, [string[]]$EntryType, [datetime]$After, [int]$Newest)
    throw 'Get-EventLog is not faked'
}

# New-Object as Windows has it: -ComObject is a parameter set of its own. .NET types go to the real cmdlet.
function global:New-Object {
    [CmdletBinding(DefaultParameterSetName = 'Net')]
    param(
        [Parameter(ParameterSetName = 'Net', Mandatory = $true, Position = 0)][string]$TypeName,
        [Parameter(ParameterSetName = 'Net', Position = 1)][object[]]$ArgumentList,
        [Parameter(ParameterSetName = 'Com', Mandatory = $true, Position = 0)][string]$ComObject,
        [Parameter(ParameterSetName = 'Com')][switch]$Strict,
        [hashtable]$Property
    )
    if ($PSCmdlet.ParameterSetName -eq 'Com') {
        # REGDB_E_CLASSNOTREG, what Windows answers for a ProgID no test faked.
        Throw-ComException -Message "Retrieving the COM class factory for component $ComObject failed" -HResult 0x80040154
    }
    $splat = @{ TypeName = $TypeName }
    if ($PSBoundParameters.ContainsKey('ArgumentList')) { $splat.ArgumentList = $ArgumentList }
    if ($PSBoundParameters.ContainsKey('Property')) { $splat.Property = $Property }
    Microsoft.PowerShell.Utility\New-Object @splat
}

# --- helpers that build realistic values ---

# Throws a COMException with an HRESULT, as a failing COM call does (thrown here, not returned: a returned exception
# would be wrapped in a PSObject, and throwing that raises a RuntimeException instead).
function global:Throw-ComException {
    param([string]$Message, [long]$HResult)
    $signed = ConvertTo-SignedHResult $HResult
    throw [System.Runtime.InteropServices.COMException]::new(('{0} (Exception from HRESULT: 0x{1:X8})' -f $Message, $signed), $signed)
}

# An HRESULT as WUA returns it through COM: a signed 32-bit integer (0x80070643 is -2147023293).
function global:ConvertTo-SignedHResult {
    param([long]$HResult)
    if ($HResult -gt [int]::MaxValue) { return [int]($HResult - 0x100000000L) }
    return [int]$HResult
}

function global:Add-Method {
    param($Object, [string]$Name, [scriptblock]$Body)
    Add-Member -InputObject $Object -MemberType ScriptMethod -Name $Name -Value $Body -Force
}

# The classification categories WUA attaches (ids are stable, names are localized).
$global:WuaClassifications = @{
    'Security Updates' = '0fa1201d-4330-4fa8-8ae9-b877473b6441'
    'Critical Updates' = 'e6cf1350-c01b-414d-a61f-263d14d133b4'
    'Definition Updates' = 'e0789628-ce08-4437-be74-2495b842f43b'
    'Updates' = 'cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83'
    'Update Rollups' = '28bc880e-0592-4cbf-8f95-c79b17911d5f'
    'Drivers' = 'ebfc1fc5-71a4-4f7b-9aca-3b9a503104a0'
}

# One IUpdate. -Classification may be an English name (its stable id is used) or @{ Name; CategoryID } (localized).
function global:New-FakeUpdate {
    param(
        [string]$UpdateId = ([guid]::NewGuid().ToString()),
        [int]$Revision = 200,
        [string]$Title = 'Update',
        [string[]]$Kb = @(),
        $Classification = 'Security Updates',
        [string]$Severity = '',
        [object]$Released = ([datetime]::new(2026, 1, 13, 0, 0, 0, [DateTimeKind]::Unspecified)),
        [decimal]$Size = 1048576,
        [int]$RebootBehavior = 1,
        [bool]$IsInstalled = $false,
        [bool]$IsDownloaded = $false,
        [bool]$EulaAccepted = $true,
        # IUpdate.Type (UpdateType): 1 utSoftware, 2 utDriver.
        [int]$Type = 1
    )
    if ($Classification -is [string]) { $Classification = @{ Name = $Classification; CategoryID = $global:WuaClassifications[$Classification] } }
    $categories = @(
        [pscustomobject]@{ Name = 'Windows Server 2022'; Type = 'Product'; CategoryID = '2c7888b6-f9e9-4ee9-87af-a77705193893' }
        [pscustomobject]@{ Name = [string]$Classification.Name; Type = 'UpdateClassification'; CategoryID = [string]$Classification.CategoryID }
    )
    $update = [pscustomobject]@{
        Title = $Title
        Identity = [pscustomobject]@{ UpdateID = $UpdateId; RevisionNumber = $Revision }
        KBArticleIDs = @($Kb)
        Categories = $categories
        MsrcSeverity = $Severity
        LastDeploymentChangeTime = $Released
        MaxDownloadSize = $Size
        InstallationBehavior = [pscustomobject]@{ RebootBehavior = $RebootBehavior; CanRequestUserInput = $false }
        IsInstalled = $IsInstalled
        IsDownloaded = $IsDownloaded
        IsHidden = $false
        EulaAccepted = $EulaAccepted
        RebootRequired = $false
        Type = $Type
    }
    Add-Method $update 'AcceptEula' { $this.EulaAccepted = $true }
    return $update
}

# One IUpdateHistoryEntry. Operation 1 = Installation, 2 = Uninstallation.
function global:New-FakeHistoryEntry {
    param([string]$Title, [datetime]$Date, [int]$ResultCode = 2, [long]$HResult = 0, [int]$Operation = 1)
    return [pscustomobject]@{
        Title = $Title
        Date = $Date
        Operation = $Operation
        ResultCode = $ResultCode
        HResult = (ConvertTo-SignedHResult $HResult)
        UpdateIdentity = [pscustomobject]@{ UpdateID = [guid]::NewGuid().ToString(); RevisionNumber = 1 }
    }
}

# An IUpdateCollection (Microsoft.Update.UpdateColl).
function global:New-FakeUpdateColl {
    $coll = [pscustomobject]@{ Items = (New-Object System.Collections.ArrayList) }
    Add-Member -InputObject $coll -MemberType ScriptProperty -Name Count -Value { $this.Items.Count } -Force
    Add-Method $coll 'Add' { param($u) return $this.Items.Add($u) }
    Add-Method $coll 'Item' { param($i) return $this.Items[$i] }
    return $coll
}

# A machine in a known state. Tests change fields before calling Use-FakeWindows.
function global:New-FakeMachine {
    $uninstall = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
    $machine = @{
        Registry = @{
            'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' = @{ ProductName = 'Windows Server 2022 Datacenter'; CurrentBuild = '20348'; UBR = 2340; DisplayVersion = '21H2' }
            'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' = @{ BootExecute = @('autocheck autochk *') }
            $uninstall = @{}
            "$uninstall\{90160000-008C-0000-1000-0000000FF1CE}" = @{ DisplayName = 'Microsoft SQL Server 2019 (64-bit)'; DisplayVersion = '15.0.2000.5'; Publisher = 'Microsoft Corporation' }
            "$uninstall\IIS" = @{ DisplayName = 'Internet Information Services'; DisplayVersion = '10.0.20348.1' }
            "$uninstall\KB-hidden-component" = @{ SystemComponent = 1 }
        }
        # Registry paths whose read is refused (UnauthorizedAccessException, as the registry provider throws).
        RegistryDenied = @()
        Cim = @{
            Win32_OperatingSystem = @([pscustomobject]@{
                    Caption = 'Microsoft Windows Server 2022 Datacenter'; Version = '10.0.20348'; BuildNumber = '20348'
                    # CIM datetimes arrive as local DateTime values.
                    LastBootUpTime = [datetime]::new(2026, 1, 20, 1, 30, 0, [DateTimeKind]::Utc).ToLocalTime()
                })
            Win32_QuickFixEngineering = @(
                [pscustomobject]@{ HotFixID = 'KB5034129'; Description = 'Security Update'; InstalledOn = '12/10/2025' }
                [pscustomobject]@{ HotFixID = 'KB5032198'; Description = 'Update'; InstalledOn = '' }
            )
            Win32_Service = @(
                [pscustomobject]@{ Name = 'W3SVC'; State = 'Running'; StartMode = 'Auto' }
                [pscustomobject]@{ Name = 'wuauserv'; State = 'Stopped'; StartMode = 'Manual' }
                [pscustomobject]@{ Name = 'MSSQLSERVER'; State = 'Running'; StartMode = 'Auto' }
            )
            Win32_PnPSignedDriver = @(
                [pscustomobject]@{ DeviceName = 'Microsoft Hyper-V Network Adapter'; DriverVersion = '10.0.20348.1'; DriverProviderName = 'Microsoft' }
                [pscustomobject]@{ DeviceName = $null; DriverVersion = '1.0'; DriverProviderName = $null }
            )
            Win32_LogicalDisk = @(
                [pscustomobject]@{ DeviceID = 'C:'; DriveType = 3; FreeSpace = [uint64]42949672960; Size = [uint64]136365211648 }
                [pscustomobject]@{ DeviceID = 'D:'; DriveType = 5; FreeSpace = $null; Size = $null }
            )
        }
        # Class name -> the exception Get-CimInstance throws for it.
        CimErrors = @{}
        Wua = @{
            # Updates WUA offers (not installed) and knows (installed); Search filters on IsInstalled.
            Updates = @()
            History = @()
            # HRESULTs thrown by the named calls (CreateSession, Search, Install, Download, History).
            Errors = @{}
            # UpdateID -> @{ ResultCode; HResult; RebootRequired } for Install().
            Outcomes = @{}
            SystemRebootRequired = $false
            # IUpdateInstaller.IsBusy: another installation is in progress (baseline reports it; issue 21).
            InstallerBusy = $false
            # What each call was asked, for assertions.
            Calls = (New-Object System.Collections.ArrayList)
        }
        Events = @()
        # The exception every Get-WinEvent call throws (access denied, event log service stopped).
        EventError = $null
        Processes = @()
    }
    return $machine
}

# The fake WUA session for a machine (Microsoft.Update.Session).
function global:New-FakeUpdateSession {
    param([hashtable]$Machine)
    $wua = $Machine.Wua
    $session = [pscustomobject]@{ ClientApplicationID = ''; Wua = $wua }
    Add-Method $session 'CreateUpdateSearcher' {
        $searcher = [pscustomobject]@{ Wua = $this.Wua; Online = $true }
        Add-Method $searcher 'Search' {
            param([string]$Criteria)
            [void]$this.Wua.Calls.Add("Search:$Criteria")
            if ($this.Wua.Errors.ContainsKey('Search')) { Throw-ComException -Message 'Search failed' -HResult $this.Wua.Errors['Search'] }
            $all = @($this.Wua.Updates)
            if ($Criteria -match "^UpdateID='([^']*)'$") {
                $id = $Matches[1]
                $found = @($all | Where-Object { $_.Identity.UpdateID -eq $id })
            } elseif ($Criteria -eq "IsInstalled=0 and IsHidden=0 and Type='Software'") {
                $found = @($all | Where-Object { -not $_.IsInstalled -and -not $_.IsHidden -and $_.Type -ne 2 })
            } elseif ($Criteria -eq "IsInstalled=0 and IsHidden=0 and Type='Software' or IsInstalled=0 and IsHidden=0 and Type='Driver'") {
                $found = @($all | Where-Object { -not $_.IsInstalled -and -not $_.IsHidden })
            } else {
                # WU_E_INVALID_CRITERIA: the fake knows only the criteria the scripts send.
                Throw-ComException -Message "invalid criteria $Criteria" -HResult 0x80240032
            }
            $updates = New-FakeUpdateColl
            foreach ($u in $found) { [void]$updates.Add($u) }
            return [pscustomobject]@{ ResultCode = 2; Updates = $updates.Items.ToArray(); Warnings = @() }
        }
        Add-Method $searcher 'GetTotalHistoryCount' {
            if ($this.Wua.Errors.ContainsKey('History')) { Throw-ComException -Message 'history failed' -HResult $this.Wua.Errors['History'] }
            return @($this.Wua.History).Count
        }
        Add-Method $searcher 'QueryHistory' {
            param([int]$Start, [int]$Count)
            [void]$this.Wua.Calls.Add("QueryHistory:$Start,$Count")
            $all = @($this.Wua.History)
            if ($Start -ge $all.Count) { return @() }
            $last = [Math]::Min($all.Count, $Start + $Count) - 1
            return @($all[$Start..$last])
        }
        return $searcher
    }
    Add-Method $session 'CreateUpdateDownloader' {
        $downloader = [pscustomobject]@{ Wua = $this.Wua; Updates = $null }
        Add-Method $downloader 'Download' {
            [void]$this.Wua.Calls.Add('Download')
            if ($this.Wua.Errors.ContainsKey('Download')) { Throw-ComException -Message 'Download failed' -HResult $this.Wua.Errors['Download'] }
            foreach ($u in $this.Updates.Items) { $u.IsDownloaded = $true }
            return [pscustomobject]@{ ResultCode = 2; HResult = 0 }
        }
        return $downloader
    }
    Add-Method $session 'CreateUpdateInstaller' {
        $installer = [pscustomobject]@{ Wua = $this.Wua; Updates = $null; AllowSourcePrompts = $false; IsBusy = [bool]$this.Wua.InstallerBusy }
        Add-Method $installer 'Install' {
            $ids = @($this.Updates.Items | ForEach-Object { $_.Identity.UpdateID })
            [void]$this.Wua.Calls.Add('Install:' + ($ids -join ','))
            if ($this.Wua.Errors.ContainsKey('Install')) { Throw-ComException -Message 'Install failed' -HResult $this.Wua.Errors['Install'] }
            $results = New-Object System.Collections.ArrayList
            $anyFailed = $false
            $reboot = $false
            foreach ($u in $this.Updates.Items) {
                $o = @{ ResultCode = 2; HResult = 0; RebootRequired = $false }
                if ($this.Wua.Outcomes.ContainsKey($u.Identity.UpdateID)) { $o = $this.Wua.Outcomes[$u.Identity.UpdateID] }
                if ($o.ResultCode -eq 2 -or $o.ResultCode -eq 3) { $u.IsInstalled = $true } else { $anyFailed = $true }
                if ($o.RebootRequired) { $reboot = $true }
                [void]$results.Add([pscustomobject]@{ ResultCode = $o.ResultCode; HResult = (ConvertTo-SignedHResult $o.HResult); RebootRequired = [bool]$o.RebootRequired })
            }
            # 0x80240022 WU_E_ALL_UPDATES_FAILED is the overall HResult when every update failed.
            $overallCode = 2
            $overallHResult = 0
            if ($anyFailed) { $overallCode = 4; $overallHResult = ConvertTo-SignedHResult 0x80240022 }
            $result = [pscustomobject]@{ ResultCode = $overallCode; HResult = $overallHResult; RebootRequired = $reboot; Results = $results }
            Add-Method $result 'GetUpdateResult' { param([int]$i) return $this.Results[$i] }
            return $result
        }
        return $installer
    }
    return $session
}

function global:ConvertTo-HklmPath {
    param([string]$Path)
    if ($Path.StartsWith($global:HklmPrefix, [StringComparison]::OrdinalIgnoreCase)) { return 'HKLM:\' + $Path.Substring($global:HklmPrefix.Length) }
    return $Path
}

# The machine the mocks answer for, from now on (call at the top of an It).
function global:Use-FakeWindows {
    param([hashtable]$Machine)
    $global:FakeMachine = $Machine
}

# Installs the mocks once per file (in the Describe's BeforeAll); they answer from $global:FakeMachine, so each
# test only swaps the machine. Should -Invoke then counts over the whole Describe block.
function global:Install-FakeWindows {
    $global:FakeMachine = New-FakeMachine

    Mock Get-CimInstance {
        $m = $global:FakeMachine
        if ($m.CimErrors.ContainsKey($ClassName)) { throw $m.CimErrors[$ClassName] }
        $rows = @()
        if ($m.Cim.ContainsKey($ClassName)) { $rows = @($m.Cim[$ClassName]) }
        if ($Filter -eq 'DriveType=3') { $rows = @($rows | Where-Object { $_.DriveType -eq 3 }) }
        $rows
    }
    Mock New-Object -ParameterFilter { $ComObject -eq 'Microsoft.Update.Session' } -MockWith {
        if ($global:FakeMachine.Wua.Errors.ContainsKey('CreateSession')) {
            $h = $global:FakeMachine.Wua.Errors['CreateSession']
            # E_ACCESSDENIED from CoCreateInstance surfaces as UnauthorizedAccessException in .NET.
            if ($h -eq 0x80070005) { throw [System.UnauthorizedAccessException]::new('Retrieving the COM class factory for component with CLSID {4CB43D7F-7EEE-4906-8698-60DA1C38F2FE} failed due to the following error: 80070005 Access is denied.') }
            Throw-ComException -Message 'Retrieving the COM class factory for component with CLSID {4CB43D7F-7EEE-4906-8698-60DA1C38F2FE} failed' -HResult $h
        }
        New-FakeUpdateSession -Machine $global:FakeMachine
    }
    Mock New-Object -ParameterFilter { $ComObject -eq 'Microsoft.Update.UpdateColl' } -MockWith { New-FakeUpdateColl }
    Mock New-Object -ParameterFilter { $ComObject -eq 'Microsoft.Update.SystemInfo' } -MockWith {
        [pscustomobject]@{ RebootRequired = [bool]$global:FakeMachine.Wua.SystemRebootRequired; OemHardwareSupportLink = '' }
    }
    Mock Test-Path -ParameterFilter { "$LiteralPath$Path" -like 'HKLM:*' -or "$LiteralPath$Path" -like 'Microsoft.PowerShell.Core\Registry::*' } -MockWith {
        $p = ConvertTo-HklmPath "$LiteralPath$Path"
        $global:FakeMachine.Registry.ContainsKey($p)
    }
    Mock Get-ItemProperty -ParameterFilter { "$LiteralPath$Path" -like 'HKLM:*' -or "$LiteralPath$Path" -like 'Microsoft.PowerShell.Core\Registry::*' } -MockWith {
        $p = ConvertTo-HklmPath "$LiteralPath$Path"
        $m = $global:FakeMachine
        $quiet = $PesterBoundParameters['ErrorAction'] -eq 'SilentlyContinue'
        if ($m.RegistryDenied -contains $p) {
            if ($quiet) { return }
            throw [System.UnauthorizedAccessException]::new("Requested registry access is not allowed.")
        }
        if (-not $m.Registry.ContainsKey($p)) {
            if ($quiet) { return }
            throw [System.Management.Automation.ItemNotFoundException]::new("Cannot find path '$p' because it does not exist.")
        }
        $props = [ordered]@{}
        foreach ($k in $m.Registry[$p].Keys) { $props[$k] = $m.Registry[$p][$k] }
        $props.PSPath = $global:HklmPrefix + $p.Substring(6)
        [pscustomobject]$props
    }
    Mock Get-ChildItem -ParameterFilter { "$LiteralPath$Path" -like 'HKLM:*' } -MockWith {
        $p = ConvertTo-HklmPath "$LiteralPath$Path"
        $m = $global:FakeMachine
        if ($m.RegistryDenied -contains $p) { throw [System.UnauthorizedAccessException]::new("Requested registry access is not allowed.") }
        foreach ($key in @($m.Registry.Keys | Sort-Object)) {
            if ($key.StartsWith("$p\", [StringComparison]::OrdinalIgnoreCase) -and -not $key.Substring($p.Length + 1).Contains('\')) {
                [pscustomobject]@{ PSPath = $global:HklmPrefix + $key.Substring(6); PSChildName = $key.Substring($p.Length + 1) }
            }
        }
    }
    Mock Get-WinEvent {
        if ($null -ne $global:FakeMachine.EventError) { throw $global:FakeMachine.EventError }
        $f = $FilterHashtable[0]
        $all = @($global:FakeMachine.Events | Where-Object {
                (@($f.LogName) -contains $_.LogName) -and
                (-not $f.ContainsKey('Level') -or @($f.Level) -contains [int]$_.Level) -and
                (-not $f.ContainsKey('StartTime') -or $_.TimeCreated.ToUniversalTime() -ge ([datetime]$f.StartTime).ToUniversalTime()) -and
                (-not $f.ContainsKey('ProviderName') -or @($f.ProviderName) -contains $_.ProviderName) -and
                (-not $f.ContainsKey('Id') -or @($f.Id) -contains $_.Id)
            } | Sort-Object -Property TimeCreated -Descending)
        if ($all.Count -eq 0) {
            # What Get-WinEvent reports when nothing matches; with -ErrorAction Stop the caller catches this record.
            $record = [System.Management.Automation.ErrorRecord]::new(
                [System.Exception]::new('No events were found that match the specified selection criteria.'),
                'NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand',
                [System.Management.Automation.ErrorCategory]::ObjectNotFound, $null)
            throw $record
        }
        if ($MaxEvents -gt 0) { $all = @($all | Select-Object -First $MaxEvents) }
        $all
    }
    Mock Get-Process { @($global:FakeMachine.Processes) }
    Mock Start-Sleep { }
    Mock Restart-Computer { throw 'Restart-Computer must never be called by a device script' }
    Mock Stop-Computer { throw 'Stop-Computer must never be called by a device script' }
    Mock Invoke-Expression { throw 'Invoke-Expression must never be called by a device script' }
}

# One event-log record (EventLogRecord's properties the scripts read). TimeCreated is local, as on Windows.
function global:New-FakeEvent {
    param([string]$LogName = 'System', [string]$ProviderName = 'Service Control Manager', [int]$Id = 7031, [int]$Level = 2,
        [datetime]$TimeUtc, [AllowNull()][object]$Message = 'The service terminated unexpectedly.',
        # Insertion strings (EventRecord.Properties, each with a Value), e.g. SCM 7031's param1: the service's name.
        [string[]]$Properties = @())
    $record = [pscustomobject]@{
        LogName = $LogName; ProviderName = $ProviderName; Id = $Id; Level = [byte]$Level
        TimeCreated = $TimeUtc.ToLocalTime()
        Properties = @($Properties | ForEach-Object { [pscustomobject]@{ Value = $_ } })
    }
    if ($Message -is [scriptblock]) {
        # A provider whose message DLL is missing: reading Message throws on Windows.
        Add-Member -InputObject $record -MemberType ScriptProperty -Name Message -Value $Message
    } else {
        Add-Member -InputObject $record -MemberType NoteProperty -Name Message -Value $Message
    }
    return $record
}
