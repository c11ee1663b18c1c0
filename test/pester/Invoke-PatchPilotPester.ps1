# Runs the device-script Pester suites (test/pester/*.Tests.ps1) and writes their results for the Jest side:
#   <ResultsDir>/pester.junit.xml   JUnit XML (CI can publish it)
#   <ResultsDir>/pester.json        one entry per test: file, path, result, error; plus container failures
# Invoked by test/integration/device/windowsScripts.test.ts as `dotnet pwsh -NoProfile -File <this> ...`.
param(
    [Parameter(Mandatory = $true)][string]$PesterModule,
    [Parameter(Mandatory = $true)][string]$ResultsDir,
    [string[]]$Only = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

Import-Module -Name $PesterModule -Force

$files = @(Get-ChildItem -LiteralPath $PSScriptRoot -Filter '*.Tests.ps1' | Sort-Object Name)
$Only = @($Only | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
if ($Only.Count -gt 0) { $files = @($files | Where-Object { $Only -contains ($_.Name -replace '\.Tests\.ps1$', '') }) }

$config = New-PesterConfiguration
$config.Run.Path = @($files | ForEach-Object { $_.FullName })
$config.Run.PassThru = $true
$config.Output.Verbosity = 'None'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'JUnitXml'
$config.TestResult.OutputPath = Join-Path $ResultsDir 'pester.junit.xml'
$config.Should.ErrorAction = 'Continue'

$result = Invoke-Pester -Configuration $config

function Get-ErrorText {
    param($Records)
    return (@($Records | ForEach-Object {
                $text = [string]$_
                if ($_.PSObject.Properties['ScriptStackTrace'] -and $_.ScriptStackTrace) {
                    # The suite's own frames only; Pester's add nothing.
                    $frames = @($_.ScriptStackTrace -split "`n" | Where-Object { $_ -notmatch 'Pester\.ps(m1|1)' })
                    $text += "`n" + ($frames -join "`n")
                }
                $text
            }) -join "`n")
}

$tests = foreach ($test in $result.Tests) {
    [ordered]@{
        file = [System.IO.Path]::GetFileName($test.ScriptBlock.File)
        path = $test.ExpandedPath
        result = [string]$test.Result
        error = Get-ErrorText $test.ErrorRecord
    }
}
$containers = foreach ($container in $result.Containers) {
    [ordered]@{
        file = [System.IO.Path]::GetFileName([string]$container.Item)
        result = [string]$container.Result
        error = Get-ErrorText $container.ErrorRecord
    }
}
$summary = [ordered]@{
    pester = [string](Get-Module Pester).Version
    powershell = [string]$PSVersionTable.PSVersion
    tests = @($tests)
    containers = @($containers)
}
[System.IO.File]::WriteAllText((Join-Path $ResultsDir 'pester.json'), (ConvertTo-Json -InputObject $summary -Depth 6), [System.Text.UTF8Encoding]::new($false))
