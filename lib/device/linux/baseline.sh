#!/bin/bash
# patchpilot-script: baseline@1.0.0
# Collects device facts for phases 02 and 07 (baseline and post snapshot).
# Prints one JSON document on stdout (contract: lib/schemas/device/baseline.ts; docs/device-scripts.md).
# Run Command may start this file with sh; everything below needs bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
SCRIPT_ID=baseline
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

# Section: another package manager already at work (PatchPilot stops with 170 instead of racing it): a process
# holding dpkg's or rpm's lock (fuser, when installed), or the live pid in yum's or zypper's pid file.
section_install_in_progress() {
  local lock pid pids comm
  if command -v fuser >/dev/null 2>&1; then
    for lock in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/rpm/.rpm.lock; do
      [ -e "$lock" ] || continue
      pids=$(timeout 30 fuser "$lock" 2>/dev/null) || pids=""
      pid=$(printf '%s' "$pids" | tr -s ' \t' '\n' | grep -E '^[0-9]+$' | head -n 1) || pid=""
      if [ -n "$pid" ]; then
        comm=$(cat "/proc/$pid/comm" 2>/dev/null) || comm="unknown"
        json_str "lock $lock"
        local by=$REPLY
        json_str "held by $comm (pid $pid)"
        printf '{"busy":true,"by":%s,"detail":%s}' "$by" "$REPLY"
        return 0
      fi
    done
  fi
  for lock in /var/run/yum.pid /run/zypp.pid; do
    [ -s "$lock" ] || continue
    pid=$(head -c 20 "$lock" | tr -cd '0-9')
    if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
      json_str "pid file $lock"
      local by=$REPLY
      json_str "process $pid is running"
      printf '{"busy":true,"by":%s,"detail":%s}' "$by" "$REPLY"
      return 0
    fi
  done
  printf '{"busy":false}'
}

# Section: OS name and version from /etc/os-release (read, never sourced), kernel release as the build.
section_os() {
  local key value name='' version='' pretty='' n v
  [ -r /etc/os-release ] || fail 69 "/etc/os-release not found"
  while IFS='=' read -r key value || [ -n "$key" ]; do
    value=${value#[\"\']}
    value=${value%[\"\']}
    case $key in
      NAME) name=$value ;;
      VERSION_ID) version=$value ;;
      PRETTY_NAME) pretty=$value ;;
    esac
  done </etc/os-release
  json_str "${pretty:-$name}"
  n=$REPLY
  json_str "$version"
  v=$REPLY
  json_str "$(uname -r)"
  printf '{"family":"linux","name":%s,"version":%s,"build":%s}' "$n" "$v" "$REPLY"
}

# Prints installed packages as TSV: id, version, installedOn (ISO or empty), publisher.
list_packages() {
  detect_package_manager
  case $REPLY in
    apt)
      dpkg-query -W -f '${db:Status-Abbrev}\t${binary:Package}\t${Version}\n' |
        awk -F '\t' '$1 ~ /^ii/ { print $2 "\t" $3 "\t\t" }'
      ;;
    dnf | yum | zypper)
      need rpm
      rpm -qa --qf '%{NAME}.%{ARCH}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{INSTALLTIME}\t%{VENDOR}\n' >"$PP_TMP/rpm.tsv"
      # One date call converts every install time (a fork per package is too slow on big servers).
      cut -f3 "$PP_TMP/rpm.tsv" | sed 's/^/@/' | date -u -f - +%Y-%m-%dT%H:%M:%SZ >"$PP_TMP/rpm.dates"
      paste "$PP_TMP/rpm.tsv" "$PP_TMP/rpm.dates" |
        awk -F '\t' '{ vendor = ($4 == "(none)") ? "" : $4; print $1 "\t" $2 "\t" $5 "\t" vendor }'
      ;;
    *) fail 69 "no supported package manager (apt, dnf, yum, zypper) found" ;;
  esac
}

# Section: installed packages as installed updates (Linux has no separate update inventory).
section_installed_updates() {
  local id version installed publisher entry items=()
  list_packages >"$PP_TMP/packages.tsv"
  while IFS=$'\t' read -r id version installed publisher; do
    json_str "$id"
    entry="{\"id\":$REPLY"
    json_str "$version"
    entry+=",\"version\":$REPLY"
    if [ -n "$installed" ]; then entry+=",\"installedOn\":\"$installed\""; fi
    items+=("$entry}")
  done <"$PP_TMP/packages.tsv"
  json_array "${items[@]+"${items[@]}"}"
  printf '%s' "$REPLY"
}

# Section: installed packages as apps (name, version, vendor where the package database has one).
section_apps() {
  local id version installed publisher entry items=()
  list_packages >"$PP_TMP/packages.tsv"
  while IFS=$'\t' read -r id version installed publisher; do
    json_str "$id"
    entry="{\"name\":$REPLY"
    json_str "$version"
    entry+=",\"version\":$REPLY"
    if [ -n "$publisher" ]; then
      json_str "$publisher"
      entry+=",\"publisher\":$REPLY"
    fi
    items+=("$entry}")
  done <"$PP_TMP/packages.tsv"
  json_array "${items[@]+"${items[@]}"}"
  printf '%s' "$REPLY"
}

# Prints package-manager transactions as TSV: local time, operation, WUA-style result code, title.
list_history() {
  detect_package_manager
  case $REPLY in
    apt)
      [ -r /var/log/apt/history.log ] || fail 69 "/var/log/apt/history.log not readable"
      # A transaction without End-Date was cut short (5 Aborted), or is still running at the end of the log (1).
      awk '
        function flush(code) {
          if (start == "") return
          op = (ins && !rem) ? "Installation" : (rem && !ins) ? "Uninstallation" : "Other"
          title = (cmd == "") ? "apt transaction" : cmd
          gsub(/\t/, " ", title)
          print start "\t" op "\t" ((code != "") ? code : (err ? 4 : 2)) "\t" substr(title, 1, 500)
          start = ""
        }
        /^Start-Date: / { flush(5); start = substr($0, 13); cmd = ""; ins = 0; rem = 0; err = 0; next }
        /^Commandline: / { cmd = substr($0, 14); next }
        /^(Install|Upgrade|Reinstall|Downgrade): / { ins = 1; next }
        /^(Remove|Purge): / { rem = 1; next }
        /^Error: / { err = 1; next }
        /^End-Date: / { flush(""); next }
        END { flush(1) }
      ' /var/log/apt/history.log
      ;;
    dnf)
      [ -r /var/log/dnf.rpm.log ] || fail 69 "/var/log/dnf.rpm.log not readable"
      awk '$2 == "SUBDEBUG" && $3 ~ /^(Install|Installed|Upgrade|Reinstall|Downgrade|Erase|Obsoleted):$/ {
        op = ($3 == "Erase:" || $3 == "Obsoleted:") ? "Uninstallation" : "Installation"
        print $1 "\t" op "\t2\t" substr($3, 1, length($3) - 1) " " $4
      }' /var/log/dnf.rpm.log
      ;;
    zypper)
      [ -r /var/log/zypp/history ] || fail 69 "/var/log/zypp/history not readable"
      awk -F '|' '$2 == "install" || $2 == "remove" {
        print $1 "\t" (($2 == "install") ? "Installation" : "Uninstallation") "\t2\t" $2 " " $3 " " $4
      }' /var/log/zypp/history
      ;;
    yum) fail 69 "yum history is not collected (yum.log has no year)" ;;
    *) fail 69 "no supported package manager (apt, dnf, yum, zypper) found" ;;
  esac
}

# Section: the last 200 package-manager transactions, newest last, as update history entries.
section_update_history() {
  local when op code title items=()
  list_history | tail -n 200 >"$PP_TMP/history.tsv"
  # Convert the logs' local times (at most 200); a line date cannot read becomes an empty date and is skipped.
  : >"$PP_TMP/history.dates"
  while IFS=$'\t' read -r when _; do
    date -u -d "$when" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo
  done <"$PP_TMP/history.tsv" >"$PP_TMP/history.dates"
  while IFS=$'\t' read -r when op code title; do
    [ -n "$when" ] || continue
    json_str "$title"
    items+=("{\"title\":$REPLY,\"date\":\"$when\",\"operation\":\"$op\",\"resultCode\":$code}")
  done < <(paste "$PP_TMP/history.dates" <(cut -f2- "$PP_TMP/history.tsv"))
  json_array "${items[@]+"${items[@]}"}"
  printf '%s' "$REPLY"
}

# Section: systemd services (loaded units and installed unit files) with sub-state and unit-file state.
section_services() {
  local name state start_type items=()
  need systemctl
  [ -d /run/systemd/system ] || fail 69 "systemd is not running (no /run/systemd/system)"
  timeout 60 systemctl list-units --type=service --all --no-legend --plain --no-pager >"$PP_TMP/units"
  timeout 60 systemctl list-unit-files --type=service --no-legend --no-pager >"$PP_TMP/unit-files"
  awk '
    FNR == NR { start[$1] = $2; next }
    { sub(/^[^A-Za-z0-9]+/, ""); seen[$1] = 1; print $1 "\t" $4 "\t" (($1 in start) ? start[$1] : "unknown") }
    END { for (u in start) if (!(u in seen) && u !~ /@\.service$/) print u "\t" "dead" "\t" start[u] }
  ' "$PP_TMP/unit-files" "$PP_TMP/units" | sort >"$PP_TMP/services.tsv"
  while IFS=$'\t' read -r name state start_type; do
    json_str "${name%.service}"
    items+=("{\"name\":$REPLY,\"state\":\"$state\",\"startType\":\"$start_type\"}")
  done <"$PP_TMP/services.tsv"
  json_array "${items[@]+"${items[@]}"}"
  printf '%s' "$REPLY"
}

# Section: listening TCP sockets from `ss -Hltn` ("State Recv-Q Send-Q Local-Address:Port Peer-Address:Port"; IPv6
# addresses in brackets, a scope as %iface), one entry per address and port.
section_listening_ports() {
  local address port items=()
  need ss
  timeout 30 ss -Hltn | awk '{ local = $4; port = local; sub(/^.*:/, "", port); address = substr(local, 1, length(local) - length(port) - 1); if (port ~ /^[0-9]+$/) print address "\t" port }' |
    sort -u >"$PP_TMP/listening.tsv"
  while IFS=$'\t' read -r address port; do
    json_str "$address"
    items+=("{\"protocol\":\"tcp\",\"port\":$port,\"address\":$REPLY}")
  done <"$PP_TMP/listening.tsv"
  json_array "${items[@]+"${items[@]}"}"
  printf '%s' "$REPLY"
}

section_last_boot() {
  boot_time_utc
  printf '"%s"' "$REPLY"
}

now_utc
captured=$REPLY
run_section os section_os
os=$SECTION
run_section installedUpdates section_installed_updates
installed=$SECTION
run_section updateHistory section_update_history
history=$SECTION
run_section services section_services
services=$SECTION
run_section apps section_apps
apps=$SECTION
run_section pendingReboot section_pending_reboot
pending=$SECTION
run_section lastBootTime section_last_boot
boot=$SECTION
run_section disks section_disks
disks=$SECTION
run_section installInProgress section_install_in_progress
busy=$SECTION
run_section listeningPorts section_listening_ports
listening=$SECTION

# Drivers are a Windows inventory; Linux reports an empty list by contract (kernel modules are not drivers here).
emit_document "{\"capturedAt\":\"$captured\",\"os\":$os,\"installedUpdates\":$installed,\"updateHistory\":$history,\"services\":$services,\"drivers\":[],\"apps\":$apps,\"pendingReboot\":$pending,\"lastBootTime\":$boot,\"disks\":$disks,\"installInProgress\":$busy,\"listeningPorts\":$listening}"
