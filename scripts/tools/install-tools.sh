#!/usr/bin/env bash
# Installs the tools the tests use from outside npm, from NuGet, into the clone (nothing global):
#   - PowerShell 7.6.10, a dotnet local tool (.config/dotnet-tools.json) run as `dotnet pwsh`
#   - the Bicep compiler and Pester, restored by tools/tools.csproj into .tools/nuget
# Idempotent and quick when already installed. Without the .NET SDK it says so and exits 0, so that
# `npm test` still runs elsewhere (the tool tests then skip, naming the tool), except under CI=true, where a
# missing tool is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v dotnet >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "install-tools: the .NET SDK (dotnet) is required in CI to install Bicep, PowerShell and Pester" >&2
    exit 1
  fi
  echo "install-tools: no .NET SDK on this machine; Bicep, PowerShell and Pester tests will be skipped" >&2
  exit 0
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null
dotnet restore tools/tools.csproj --packages .tools/nuget >/dev/null
# NuGet does not keep the executable bit of the bicep binary.
chmod +x .tools/nuget/azure.bicep.commandline.linux-x64/*/tools/bicep
echo "install-tools: $(dotnet pwsh -NoLogo -NoProfile -Command '"pwsh " + $PSVersionTable.PSVersion'), \
$(.tools/nuget/azure.bicep.commandline.linux-x64/*/tools/bicep --version | head -1), \
Pester $(ls .tools/nuget/pester)"
