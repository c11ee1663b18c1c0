<#
.SYNOPSIS
    Patches this device through PatchPilot and exits with the run's exit code, for RMM tools to act on.

.DESCRIPTION
    Starts a PatchPilot run for one device (POST /api/v1/tenants/{tenant}/runs), follows it with long-polls
    (GET {self}?waitSeconds=N) until its exit code is decided, prints one summary line and exits with that code:

        0   Success              nothing to do, or everything installed and validated
        150 RebootRequired       a reboot is pending (not allowed by policy, or it did not complete)
        170 ConcurrencyLock      another run is patching this device; nothing was changed
        210 InstallFailure       an approved update did not install
        220 ValidationFailure    a business application check passed before patching and fails after
        230 DiagnosticsFailure   required diagnostics could not be collected
        240 ReportingFailure     no verified evidence says what happened (see below)

    240 is also what this script exits with when it cannot learn the outcome: the API refused the request (401, 403
    or another 4xx: the problem's detail is printed), the run did not finish within -TimeoutMinutes, or the run
    failed without an exit code. Nothing then proves what happened on the device, which is exactly what 240 means,
    so one RMM condition ("exit code 240: look at it") covers every case where a person has to look.

    Network errors and 429/502/503/504 answers are retried with backoff until -TimeoutMinutes. The start request is
    retried only when it cannot have reached PatchPilot (name resolution, connection refused, 429/502/503/504): a
    retried start after a lost answer would start a second run, which would end in 170 and hide the first one.

    Windows PowerShell 5.1 (no PowerShell 7 needed). Runs on the device, usually as SYSTEM; it only talks HTTPS to
    PatchPilot, which reaches the device through Azure Arc. Run it with powershell.exe -File (RMM script types do)
    so the exit code reaches the RMM.

.PARAMETER BaseUrl
    PatchPilot's address, e.g. https://patchpilot-contoso.azurewebsites.net. Default: $env:PATCHPILOT_BASE_URL.

.PARAMETER Tenant
    Your tenant id in PatchPilot (the MSP). Default: $env:PATCHPILOT_TENANT.

.PARAMETER Client
    The client (your customer) this device belongs to. Default: $env:PATCHPILOT_CLIENT.

.PARAMETER Device
    The device name PatchPilot knows this machine by. Default: $env:COMPUTERNAME.

.PARAMETER ApiKey
    A tenant API key with the Operator role (patchpilot apikey issue). Default: $env:PATCHPILOT_API_KEY, because RMM
    tools hand secrets to scripts as environment variables (secure custom fields, script variables) rather than on
    the command line, where they would show in process listings and logs.

.PARAMETER DryRun
    Baseline, validation and catalog only: nothing is installed and the device is not rebooted. Also on when
    $env:PATCHPILOT_DRY_RUN is "true" (RMM boolean variables arrive as that string).

.PARAMETER TimeoutMinutes
    How long to follow the run before giving up with 240 (default 240; fractions allowed, e.g. 0.5; the run itself
    goes on). No request and no retry wait outlasts it.

.PARAMETER WaitSeconds
    How long each status request may block on the server (default 60, at most 120).

.EXAMPLE
    # NinjaOne: Automation > Script, language PowerShell, run as System. Script variables (exposed as environment
    # variables) PATCHPILOT_BASE_URL, PATCHPILOT_TENANT, PATCHPILOT_CLIENT; the key from a secure custom field:
    $env:PATCHPILOT_API_KEY = Ninja-Property-Get patchpilotApiKey
    & .\Invoke-PatchPilotRun.ps1

.EXAMPLE
    # N-able N-sight / N-central: Automation Manager or script check with command-line parameters:
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File Invoke-PatchPilotRun.ps1 -BaseUrl https://patchpilot.example.com -Tenant contoso-msp -Client acme

.EXAMPLE
    # Datto RMM: a PowerShell component with site/component variables PATCHPILOT_BASE_URL, PATCHPILOT_TENANT,
    # PATCHPILOT_CLIENT and PATCHPILOT_API_KEY (Datto exposes them as environment variables); a dry run:
    .\Invoke-PatchPilotRun.ps1 -DryRun
#>
[CmdletBinding()]
param(
    [string]$BaseUrl = $env:PATCHPILOT_BASE_URL,
    [string]$Tenant = $env:PATCHPILOT_TENANT,
    [string]$Client = $env:PATCHPILOT_CLIENT,
    [string]$Device = $env:COMPUTERNAME,
    [string]$ApiKey = $env:PATCHPILOT_API_KEY,
    [switch]$DryRun,
    # Ranges are checked below, not with [ValidateRange]: a binding failure would exit 1, a code no RMM condition has.
    [double]$TimeoutMinutes = 240,
    [int]$WaitSeconds = 60
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# Invoke-WebRequest's progress bar slows every request down by orders of magnitude in Windows PowerShell 5.1.
$ProgressPreference = 'SilentlyContinue'
# Windows PowerShell 5.1 on older .NET defaults may still offer only TLS 1.0/1.1, which Azure refuses.
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

$script:RunId = ''

# Straight to stdout, never into a function's return value; RMM tools capture stdout.
function Write-Line {
    param([string]$Text)
    [Console]::Out.WriteLine($Text)
}

# The one way out: prints the summary line and exits with a documented code (anything else becomes 240).
function Exit-Run {
    param([int]$Code, [string]$Name, [string]$Reason)
    $subject = "PatchPilot $Device"
    if ($script:RunId) { $subject = "$subject run $($script:RunId)" }
    $line = "${subject}: exit $Code $Name".TrimEnd()
    if ($Reason) { $line = "$line - $Reason" }
    Write-Line $line
    switch ($Code) {
        0 { exit 0 }
        150 { exit 150 }
        170 { exit 170 }
        210 { exit 210 }
        220 { exit 220 }
        230 { exit 230 }
        default { exit 240 }
    }
}

# A property of a parsed JSON object, or $null when absent (strict mode throws on absent properties).
function Get-Field {
    param($Object, [string]$Name)
    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

# Decodes the body as UTF-8 whatever charset the response names (5.1 falls back to ISO-8859-1).
function ConvertFrom-JsonResponse {
    param($Response)
    $text = [Text.Encoding]::UTF8.GetString($Response.RawContentStream.ToArray())
    return ConvertFrom-Json -InputObject $text
}

# What a failed request tells us: the HTTP status (0 when no answer came), the problem+json detail, the server's
# Retry-After, and whether the request may have reached the server. Windows PowerShell 5.1 throws WebException;
# PowerShell 7 throws HttpResponseException (an answer) or HttpRequestException (none), so both shapes are read
# through their properties, never through type names 5.1 does not have.
function Get-Failure {
    param($ErrorRecord)
    $failure = @{ Status = 0; Detail = $ErrorRecord.Exception.Message; RetryAfter = 0; Delivered = $true }
    $exception = $ErrorRecord.Exception
    $response = $null
    if ($null -ne $exception.PSObject.Properties['Response']) { $response = $exception.Response }
    if ($null -eq $response) {
        # No answer. Only a failed name lookup or a refused/unreachable connection proves the request never left.
        for ($inner = $exception; $null -ne $inner; $inner = $inner.InnerException) {
            if ($inner -is [System.Net.WebException] -and @('NameResolutionFailure', 'ConnectFailure', 'ProxyNameResolutionFailure') -contains [string]$inner.Status) { $failure.Delivered = $false }
            if ($inner -is [System.Net.Sockets.SocketException] -and @('ConnectionRefused', 'HostNotFound', 'HostUnreachable', 'NetworkUnreachable', 'TryAgain', 'NoData') -contains [string]$inner.SocketErrorCode) { $failure.Delivered = $false }
        }
        return $failure
    }
    $failure.Status = [int]$response.StatusCode
    $retryAfter = 0
    $headers = $response.Headers
    if ($null -ne $headers.PSObject.Properties['RetryAfter']) {
        # PowerShell 7: HttpResponseHeaders.RetryAfter (a delta or a date).
        if ($null -ne $headers.RetryAfter -and $null -ne $headers.RetryAfter.Delta) { $failure.RetryAfter = [int]$headers.RetryAfter.Delta.TotalSeconds }
    } elseif ([int]::TryParse([string]$headers['Retry-After'], [ref]$retryAfter)) {
        $failure.RetryAfter = $retryAfter
    }
    $body = ''
    if ($null -ne $ErrorRecord.ErrorDetails -and $ErrorRecord.ErrorDetails.Message) {
        $body = $ErrorRecord.ErrorDetails.Message
    } elseif ($response -is [System.Net.WebResponse]) {
        try {
            $reader = New-Object System.IO.StreamReader($response.GetResponseStream(), [Text.Encoding]::UTF8)
            $body = $reader.ReadToEnd()
        } catch {
            $body = ''
        }
    }
    $failure.Detail = "HTTP $($failure.Status)"
    try {
        $problem = ConvertFrom-Json -InputObject $body
        $detail = Get-Field $problem 'detail'
        if (-not $detail) { $detail = Get-Field $problem 'title' }
        if ($detail) { $failure.Detail = "HTTP $($failure.Status): $detail" }
    } catch {
        if ($body) { $failure.Detail = "HTTP $($failure.Status): " + $body.Substring(0, [Math]::Min(200, $body.Length)) }
    }
    return $failure
}

# Seconds left before the deadline (at least 1, so a request is never sent with no time at all).
function Get-SecondsLeft {
    return [int][Math]::Max(1, [Math]::Ceiling(($deadline - (Get-Date)).TotalSeconds))
}

function Test-Transient {
    param([int]$Status)
    return (@(0, 408, 429, 500, 502, 503, 504) -contains $Status)
}

# Seconds to wait before retry number $Attempt: 5, 10, 20, 40, 60, 60, ... with jitter, or the server's Retry-After.
function Get-Backoff {
    param([int]$Attempt, [int]$RetryAfter)
    if ($RetryAfter -gt 0) { return [Math]::Min($RetryAfter, 120) }
    $base = [Math]::Min(60, 5 * [Math]::Pow(2, [Math]::Min($Attempt, 4)))
    return [int]($base + (Get-Random -Minimum 0 -Maximum 5))
}

# One HTTP request with the API key; returns the response or throws the ErrorRecord.
function Invoke-Api {
    param([string]$Method, [string]$Uri, [string]$Body, [int]$TimeoutSec)
    $request = @{
        Method          = $Method
        Uri             = $Uri
        Headers         = @{ 'x-api-key' = $ApiKey }
        UseBasicParsing = $true
        TimeoutSec      = $TimeoutSec
    }
    if ($Body) {
        $request.ContentType = 'application/json; charset=utf-8'
        $request.Body = [Text.Encoding]::UTF8.GetBytes($Body)
    }
    return Invoke-WebRequest @request
}

# --- arguments ---
if ($env:PATCHPILOT_DRY_RUN -eq 'true') { $DryRun = [switch]$true }
$missing = @()
if (-not $BaseUrl) { $missing += 'BaseUrl (or PATCHPILOT_BASE_URL)' }
if (-not $Tenant) { $missing += 'Tenant (or PATCHPILOT_TENANT)' }
if (-not $Client) { $missing += 'Client (or PATCHPILOT_CLIENT)' }
if (-not $Device) { $missing += 'Device (or COMPUTERNAME)' }
if (-not $ApiKey) { $missing += 'ApiKey (or PATCHPILOT_API_KEY)' }
if ($missing.Count -gt 0) { Exit-Run -Code 240 -Name 'ReportingFailure' -Reason ("missing " + ($missing -join ', ')) }
if ($TimeoutMinutes -lt 0.05 -or $TimeoutMinutes -gt 10080) { Exit-Run -Code 240 -Name 'ReportingFailure' -Reason "TimeoutMinutes must be between 0.05 and 10080, got $TimeoutMinutes" }
if ($WaitSeconds -lt 1 -or $WaitSeconds -gt 120) { Exit-Run -Code 240 -Name 'ReportingFailure' -Reason "WaitSeconds must be between 1 and 120, got $WaitSeconds" }

$baseUri = $null
if (-not [Uri]::TryCreate($BaseUrl, [UriKind]::Absolute, [ref]$baseUri) -or $baseUri.Scheme -ne 'https') {
    # Plain http only for a PatchPilot on this machine (local development): the key must not cross a network in clear.
    if ($null -eq $baseUri -or -not ($baseUri.Scheme -eq 'http' -and $baseUri.IsLoopback)) {
        Exit-Run -Code 240 -Name 'ReportingFailure' -Reason "BaseUrl must be an https:// address, got $BaseUrl"
    }
}
$root = $BaseUrl.TrimEnd('/')
# Links in answers are paths on the host (/api/v1/...), so they are joined to the scheme and host only.
$origin = $baseUri.GetLeftPart([UriPartial]::Authority)
$deadline = (Get-Date).AddMinutes($TimeoutMinutes)

# --- start the run ---
$startUri = "$root/api/v1/tenants/$([Uri]::EscapeDataString($Tenant))/runs"
$startBody = ConvertTo-Json -Compress -InputObject @{ client = $Client; device = $Device; dryRun = [bool]$DryRun }
$started = $null
$attempt = 0
while ($null -eq $started) {
    try {
        $started = ConvertFrom-JsonResponse (Invoke-Api -Method 'POST' -Uri $startUri -Body $startBody -TimeoutSec ([Math]::Min(100, (Get-SecondsLeft))))
    } catch {
        $failure = Get-Failure $_
        $retryable = ($failure.Status -eq 0 -and -not $failure.Delivered) -or (@(429, 502, 503, 504) -contains $failure.Status)
        if (-not $retryable) {
            $reason = "could not start the run: $($failure.Detail)"
            if ($failure.Status -eq 0 -or $failure.Status -ge 500) { $reason = "$reason (it may have started; look for it in PatchPilot before starting another)" }
            Exit-Run -Code 240 -Name 'ReportingFailure' -Reason $reason
        }
        $wait = Get-Backoff -Attempt $attempt -RetryAfter $failure.RetryAfter
        if ((Get-Date).AddSeconds($wait) -gt $deadline) {
            Exit-Run -Code 240 -Name 'ReportingFailure' -Reason "could not start the run within $TimeoutMinutes minutes: $($failure.Detail)"
        }
        Write-Verbose "start failed ($($failure.Detail)); retrying in $wait s"
        Start-Sleep -Seconds $wait
        $attempt++
    }
}
$script:RunId = [string](Get-Field $started 'runId')
$links = Get-Field $started 'links'
$self = [string](Get-Field $links 'self')
if (-not $script:RunId -or -not $self.StartsWith('/')) {
    Exit-Run -Code 240 -Name 'ReportingFailure' -Reason 'the start answer has no run id or status link'
}
Write-Verbose "started run $($script:RunId) ($self)"

# --- follow it until the exit code is decided ---
$statusUri = "$origin$self" + "?waitSeconds=$WaitSeconds"
$attempt = 0
$lastStage = ''
while ($true) {
    if ((Get-Date) -gt $deadline) {
        Exit-Run -Code 240 -Name 'ReportingFailure' -Reason "no exit code after $TimeoutMinutes minutes; the run goes on, see $self"
    }
    $status = $null
    try {
        $status = ConvertFrom-JsonResponse (Invoke-Api -Method 'GET' -Uri $statusUri -TimeoutSec ([Math]::Min($WaitSeconds + 60, (Get-SecondsLeft))))
        $attempt = 0
    } catch {
        $failure = Get-Failure $_
        if (-not (Test-Transient $failure.Status)) {
            Exit-Run -Code 240 -Name 'ReportingFailure' -Reason "could not read the run: $($failure.Detail)"
        }
        $wait = Get-Backoff -Attempt $attempt -RetryAfter $failure.RetryAfter
        if ((Get-Date).AddSeconds($wait) -gt $deadline) {
            Exit-Run -Code 240 -Name 'ReportingFailure' -Reason "no exit code after $TimeoutMinutes minutes ($($failure.Detail)); the run goes on, see $self"
        }
        Write-Verbose "status failed ($($failure.Detail)); retrying in $wait s"
        Start-Sleep -Seconds $wait
        $attempt++
        continue
    }

    $exitCode = Get-Field $status 'exitCode'
    if ($null -ne $exitCode) {
        $reasons = @(Get-Field $status 'reasons')
        $first = ''
        if ($reasons.Count -gt 0 -and $null -ne $reasons[0]) { $first = [string]$reasons[0] }
        Exit-Run -Code ([int]$exitCode) -Name ([string](Get-Field $status 'exitCodeName')) -Reason $first
    }
    $lifecycle = [string](Get-Field $status 'status')
    if ($lifecycle -eq 'failed') {
        Exit-Run -Code 240 -Name 'ReportingFailure' -Reason 'the run failed without an exit code; see its evidence in PatchPilot'
    }
    $stage = [string](Get-Field $status 'stage')
    $progress = Get-Field $status 'progress'
    if ("$lifecycle/$stage" -ne $lastStage) {
        $lastStage = "$lifecycle/$stage"
        $percent = ''
        if ($null -ne $progress) { $percent = ' ' + [string][int]([double]$progress * 100) + '%' }
        Write-Verbose "run $($script:RunId): $lifecycle $stage$percent"
    }
}
