#!/bin/bash
# patchpilot-script: install@1.0.0
# Installs exactly the pinned package versions it is given (phase 05); re-runs report AlreadyInstalled. With Fence, a
# failed pre-install hook earlier in the same run command stops it: every update NotAttempted, error hook-failed. With
# RebootMarker, a restart it needs leaves that per-run marker for the reboot section later in the same command.
# Prints one JSON document on stdout (contract: lib/schemas/device/install.ts; docs/device-scripts.md).
# Run Command may start this file with sh; everything below needs bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
SCRIPT_ID=install
SCRIPT_VERSION=1.0.0

# --- patchpilot common (identical in every Linux script: Run Command sends one file, so helpers are copied) ---
set -euo pipefail
shopt -s inherit_errexit 2>/dev/null || true
# Byte semantics: bracket ranges below are byte ranges and tool output is not translated.
export LC_ALL=C
umask 077

ERRORS=()
SECTION=null
PP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/patchpilot.XXXXXX")
trap 'rm -rf -- "$PP_TMP"' EXIT

# Sets REPLY to $1 as a JSON string literal. Bytes >= 0x80 pass through; emit_document repairs invalid UTF-8.
json_str() {
  local s=$1 out='' c i
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[$'\x01'-$'\x1f']* ]]; then
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      if [[ $c == [$'\x01'-$'\x1f'] ]]; then printf -v c '\\u%04x' "'$c"; fi
      out+=$c
    done
    s=$out
  fi
  REPLY="\"$s\""
}

# Sets REPLY to a JSON array of the already-encoded JSON values given as arguments.
json_array() {
  local IFS=,
  REPLY="[${*-}]"
}

# Sets REPLY to $1 as a JSON string, or null when empty.
json_str_or_null() {
  if [ -z "$1" ]; then REPLY=null; else json_str "$1"; fi
}

# Records one failed section; the other sections still report.
add_error() {
  local section=$1 message=$2 code=${3-} entry
  json_str "$section"; entry="{\"section\":$REPLY"
  json_str "${message:0:4000}"; entry+=",\"message\":$REPLY"
  if [ -n "$code" ]; then json_str "$code"; entry+=",\"code\":$REPLY"; fi
  ERRORS+=("$entry}")
}

# Ends a section with a reason: exit 69 reads as not-available, 77 as permission-denied, 124 as timeout.
fail() {
  printf '%s\n' "$2" >&2
  exit "$1"
}

# Fails the section when a tool is missing.
need() {
  command -v "$1" >/dev/null 2>&1 || fail 69 "$1 not found"
}

# Runs section function $2 in a subshell with errexit on; sets SECTION to its JSON, or null plus an errors[] entry.
run_section() {
  local name=$1 fn=$2 out rc msg code
  set +e
  out=$(
    set -e
    "$fn" 2>"$PP_TMP/section.err"
  )
  rc=$?
  set -e
  if [ "$rc" -eq 0 ] && [ -n "$out" ]; then
    SECTION=$out
    return 0
  fi
  SECTION=null
  msg=$(tail -c 2000 "$PP_TMP/section.err" 2>/dev/null || true)
  case $rc in
    69) code=not-available ;;
    77) code=permission-denied ;;
    124) code=timeout ;;
    *) code="exit-$rc" ;;
  esac
  add_error "$name" "${msg:-section failed with status $rc}" "$code"
}

# Sets REPLY to the current time as ISO 8601 UTC.
now_utc() {
  REPLY=$(date -u +%Y-%m-%dT%H:%M:%SZ)
}

# Sets REPLY to the boot time as ISO 8601 UTC, from the kernel's btime.
boot_time_utc() {
  local key value btime=''
  while read -r key value _; do
    if [ "$key" = btime ]; then btime=$value; fi
  done </proc/stat
  [ -n "$btime" ] || fail 69 "btime not found in /proc/stat"
  REPLY=$(date -u -d "@$btime" +%Y-%m-%dT%H:%M:%SZ)
}

# Prints the one output document; iconv drops invalid UTF-8 so the document is always valid JSON text.
emit_document() {
  local data=$1 doc
  json_array "${ERRORS[@]+"${ERRORS[@]}"}"
  doc="{\"schemaVersion\":1,\"scriptId\":\"$SCRIPT_ID\",\"scriptVersion\":\"$SCRIPT_VERSION\",\"data\":$data,\"errors\":$REPLY}"
  if printf 'x' | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; then
    # iconv -c exits 1 after dropping bytes; its output is still the whole document.
    printf '%s\n' "$doc" | iconv -f UTF-8 -t UTF-8 -c 2>/dev/null || true
  else
    printf '%s\n' "$doc"
  fi
}

# Records an invalid parameter value without echoing it (it may be hostile or long).
reject_parameter() {
  add_error parameters "$1: $2" invalid-parameter
}

# Sets REPLY to the package manager found: apt, dnf, yum, zypper, or empty.
detect_package_manager() {
  if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    REPLY=apt
  elif command -v dnf >/dev/null 2>&1; then
    REPLY=dnf
  elif command -v yum >/dev/null 2>&1; then
    REPLY=yum
  elif command -v zypper >/dev/null 2>&1; then
    REPLY=zypper
  else
    REPLY=''
  fi
}

# Section: local file systems with free and total bytes (-l: a hung network mount must not hang the script).
section_disks() {
  local size avail target items=()
  need df
  while read -r size avail target; do
    case $size in '' | *[!0-9]*) continue ;; esac
    case $avail in '' | *[!0-9]*) continue ;; esac
    json_str "$target"
    items+=("{\"mount\":$REPLY,\"freeBytes\":$avail,\"totalBytes\":$size}")
  done < <(timeout 30 df -l -B1 --output=size,avail,target -x tmpfs -x devtmpfs -x squashfs 2>/dev/null || true)
  [ "${#items[@]}" -gt 0 ] || fail 1 "df reported no local file systems"
  json_array "${items[@]}"
  printf '%s' "$REPLY"
}

# Kernels, the C library, systemd and microcode only take effect after a restart.
reboot_behavior() {
  case $1 in
    linux-image* | linux-modules* | kernel | kernel-* | glibc | glibc-* | libc6 | libc6-* | systemd | microcode_ctl | *-microcode | ucode-*)
      REPLY=CanRequestReboot
      ;;
    *) REPLY=NeverReboots ;;
  esac
}

# Section: pending-reboot signals: Debian's reboot-required flag, needs-restarting -r, zypper needs-rebooting.
section_pending_reboot() {
  local signals=() rc pending=false
  if [ -e /var/run/reboot-required ]; then signals+=('"reboot-required"'); fi
  if command -v needs-restarting >/dev/null 2>&1; then
    rc=0
    timeout 120 needs-restarting -r >/dev/null 2>&1 || rc=$?
    if [ "$rc" -eq 1 ]; then signals+=('"needs-restarting"'); fi
  fi
  if command -v zypper >/dev/null 2>&1; then
    rc=0
    timeout 120 zypper --non-interactive needs-rebooting >/dev/null 2>&1 || rc=$?
    if [ "$rc" -eq 102 ]; then signals+=('"zypper-needs-rebooting"'); fi
  fi
  if [ "${#signals[@]}" -gt 0 ]; then pending=true; fi
  json_array "${signals[@]+"${signals[@]}"}"
  printf '{"pending":%s,"signals":%s}' "$pending" "$REPLY"
}

# True when there is a journal to read: journalctl without one prints nothing and exits 0 ("no errors").
journal_available() {
  command -v journalctl >/dev/null 2>&1 || return 1
  [ -S /run/systemd/journal/socket ] && return 0
  [ -n "$(find /var/log/journal /run/log/journal -maxdepth 2 -name '*.journal' -print -quit 2>/dev/null)" ]
}
# --- end patchpilot common ---

# The same patterns as PackagePinSchema (lib/schemas/device/parameters.ts).
NAME_RE='^[A-Za-z0-9][A-Za-z0-9+._-]{0,127}$'
VERSION_RE='^[A-Za-z0-9][A-Za-z0-9.+~:_-]{0,127}$'

# Prints the installed version(s) of a package, one per line (rpm may list several architectures).
installed_versions() {
  case $PM in
    apt) dpkg-query -W -f '${db:Status-Abbrev}|${Version}\n' "$1" 2>/dev/null | awk -F '|' '$1 ~ /^ii/ { print $2 }' || true ;;
    *) rpm -q --qf '%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n' "$1" 2>/dev/null | grep -v 'not installed' || true ;;
  esac
}

# True when the exact requested version is installed (an rpm epoch of 0 may be written or omitted).
is_installed() {
  local v
  while IFS= read -r v; do
    if [ "$v" = "$2" ] || [ "${v#0:}" = "${2#0:}" ]; then return 0; fi
  done < <(installed_versions "$1")
  return 1
}

# True when the package manager offers that exact version.
is_offered() {
  case $PM in
    apt) apt-cache show "$1=$2" >/dev/null 2>&1 ;;
    dnf | yum) timeout 600 "$PM" -q list --showduplicates available "$1-$2" >/dev/null 2>&1 ;;
    zypper) timeout 600 zypper --non-interactive search -s --match-exact "$1" 2>/dev/null | awk -F '|' -v v="$2" '{ gsub(/ /, "", $4) } $4 == v { f = 1 } END { exit !f }' ;;
  esac
}

# Installs one pinned package non-interactively; the version is part of the one argument, never a separate word.
install_pinned() {
  case $PM in
    apt)
      DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a timeout 3600 apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$1=$2"
      ;;
    dnf | yum) timeout 3600 "$PM" -y -q install "$1-$2" ;;
    zypper) timeout 3600 zypper --non-interactive install --no-recommends "$1=$2" ;;
  esac
}

# Appends one result to RESULTS.
add_result() {
  local name=$1 version=$2 result=$3 status=$4 reboot=$5 entry
  json_str "$name"
  entry="{\"updateId\":$REPLY"
  json_str "$version"
  entry+=",\"version\":$REPLY,\"result\":\"$result\""
  if [ -n "$status" ]; then entry+=",\"hresult\":$status"; fi
  now_utc
  RESULTS+=("$entry,\"rebootRequired\":$reboot,\"finishedAt\":\"$REPLY\"}")
}

# True when the package will only be fully in effect after a restart.
needs_reboot_for() {
  reboot_behavior "$1"
  [ "$REPLY" = CanRequestReboot ] && return 0
  [ -r /var/run/reboot-required.pkgs ] && grep -qxF -- "$1" /var/run/reboot-required.pkgs
}

now_utc
started=$REPLY
RESULTS=()
NAMES=()
VERSIONS=()

# Every pin is validated before anything is installed: a list with one bad entry is refused as a whole,
# because what staging tested is the whole list.
valid=true
if [ -z "${UpdateIds-}" ]; then
  reject_parameter UpdateIds "must list at least one name=version"
  valid=false
else
  IFS=',' read -r -a pins <<<"$UpdateIds"
  if [[ $UpdateIds == *$'\n'* || $UpdateIds == *, ]] || [ "${#pins[@]}" -gt 500 ]; then
    reject_parameter UpdateIds "must be 1-500 name=version items joined by commas on one line"
    valid=false
  else
    for pin in "${pins[@]}"; do
      name=${pin%%=*}
      version=${pin#*=}
      if [ "$pin" = "$name" ] || ! [[ $name =~ $NAME_RE ]] || ! [[ $version =~ $VERSION_RE ]]; then
        reject_parameter UpdateIds "item ${#NAMES[@]} is not a valid name=version pin"
        valid=false
        break
      fi
      NAMES+=("$name")
      VERSIONS+=("$version")
    done
  fi
fi

# A failed pre-install hook earlier in this same run command (hooks.sh left the fence Fence names) stops every
# install: the services it was to stop may still run. The fence is read once and removed.
hook_failed=''
FENCE=${Fence-}
if [ -n "$FENCE" ]; then
  if ! [[ $FENCE =~ ^[A-Za-z0-9-]{8,64}$ ]]; then
    reject_parameter Fence "must be 8-64 letters, digits or -"
    valid=false
  else
    fence_file="${TMPDIR:-/tmp}/patchpilot-hook-failed-$FENCE"
    if [ -f "$fence_file" ] && [ ! -L "$fence_file" ] && [ -O "$fence_file" ]; then
      hook_failed=$(head -c 1000 -- "$fence_file" | tr '\n' ' ')
      rm -f -- "$fence_file"
      hook_failed=${hook_failed% }
      hook_failed=${hook_failed:-a pre-install hook failed}
    fi
  fi
fi

if [ "$valid" = true ]; then
  PM=''
  reason=''
  if [ -n "$hook_failed" ]; then
    add_error results "pre-install hook failed ($hook_failed): nothing was installed" hook-failed
    reason=stop
  else
    detect_package_manager
    PM=$REPLY
  fi
  if [ -n "$reason" ]; then
    :
  elif [ -z "$PM" ]; then
    add_error results "no supported package manager (apt, dnf, yum, zypper) found" not-available
    reason=stop
  elif [ "$(id -u)" -ne 0 ]; then
    add_error results "installing packages needs root" permission-denied
    reason=stop
  fi
  for i in "${!NAMES[@]}"; do
    name=${NAMES[$i]}
    version=${VERSIONS[$i]}
    if [ -n "$reason" ]; then
      add_result "$name" "$version" NotAttempted '' false
    elif is_installed "$name" "$version"; then
      # A re-run after a crash or reboot lands here for everything the first run finished.
      add_result "$name" "$version" AlreadyInstalled '' false
    elif ! is_offered "$name" "$version"; then
      add_result "$name" "$version" NotFound '' false
    else
      status=0
      install_pinned "$name" "$version" >"$PP_TMP/install.out" 2>&1 || status=$?
      if is_installed "$name" "$version"; then
        reboot=false
        if needs_reboot_for "$name"; then reboot=true; fi
        add_result "$name" "$version" Succeeded "$status" "$reboot"
      else
        add_error results "$name: exit $status: $(tail -c 1500 "$PP_TMP/install.out")" "exit-$status"
        add_result "$name" "$version" Failed "$status" false
      fi
    fi
  done
fi

# Any pending-reboot signal counts, not only the packages' own flags.
reboot_required=false
run_section rebootRequired section_pending_reboot
if [[ $SECTION == *'"pending":true'* ]]; then reboot_required=true; fi
for r in "${RESULTS[@]+"${RESULTS[@]}"}"; do
  if [[ $r == *'"rebootRequired":true'* ]]; then reboot_required=true; fi
done

# The reboot marker (issue 22): the reboot section later in this same run command restarts the device only when it
# finds it. Written by rename from our own temporary folder (never through a planted link) when a restart is needed,
# removed when none is, so a marker never outlives the install that wrote it.
MARKER=${RebootMarker-}
if [ -n "$MARKER" ]; then
  if ! [[ $MARKER =~ ^[A-Za-z0-9-]{8,64}$ ]]; then
    reject_parameter RebootMarker "must be 8-64 letters, digits or -"
  else
    marker_file="${TMPDIR:-/tmp}/patchpilot-reboot-required-$MARKER"
    if [ "$reboot_required" = true ]; then
      printf '%s\n' "$SCRIPT_ID" >"$PP_TMP/marker"
      mv -f -- "$PP_TMP/marker" "$marker_file"
    else
      rm -f -- "$marker_file"
    fi
  fi
fi

json_array "${RESULTS[@]+"${RESULTS[@]}"}"
results=$REPLY
now_utc
emit_document "{\"startedAt\":\"$started\",\"finishedAt\":\"$REPLY\",\"results\":$results,\"rebootRequired\":$reboot_required}"
