#!/bin/bash
# patchpilot-script: diagnostics@1.0.0
# Collects errors since SinceUtc (run start minus the policy lookback), update-agent errors, services that restarted
# since boot and disk space (phase 09).
# Prints one JSON document on stdout (contract: lib/schemas/device/diagnostics.ts; docs/device-scripts.md).
# Run Command may start this file with sh; everything below needs bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
SCRIPT_ID=diagnostics
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

# The same patterns as DiagnosticsParamsSchema (lib/schemas/device/parameters.ts).
SINCE_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'
MAX_RE='^[1-9][0-9]{0,2}$'

# Section: journal entries of priority err and above since SINCE, newest MAX. journalctl's JSON values are already
# JSON string literals, so awk copies them instead of re-escaping; it also formats the time (mawk has no strftime).
section_event_log_errors() {
  journal_available || fail 69 "no systemd journal on this device"
  timeout 120 journalctl -q --no-pager -o json -p 0..3 --since "$SINCE_LOCAL" -n "$MAX" 2>"$PP_TMP/journal.err" |
    awk '
      function field(name,   re) {
        re = "\"" name "\":\"([^\"\\\\]|\\\\.)*\""
        if (!match($0, re)) return ""
        return substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
      }
      function iso(sec,   days, rem, z, era, doe, yoe, y, doy, mp, d, mo) {
        days = int(sec / 86400); rem = sec - days * 86400
        z = days + 719468; era = int(z / 146097); doe = z - era * 146097
        yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
        y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
        mp = int((5 * doy + 2) / 153); d = doy - int((153 * mp + 2) / 5) + 1
        mo = (mp < 10) ? mp + 3 : mp - 9
        if (mo <= 2) y++
        return sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, int(rem / 3600), int((rem % 3600) / 60), rem % 60)
      }
      {
        us = field("__REALTIME_TIMESTAMP"); prio = field("PRIORITY")
        if (us !~ /^"[0-9]+"$/) next
        src = field("SYSLOG_IDENTIFIER"); if (src == "") src = field("_COMM"); if (src == "") src = "\"\""
        unit = field("_SYSTEMD_UNIT"); if (unit == "") unit = "\"journal\""
        msg = field("MESSAGE"); if (msg == "") msg = "\"\""
        level = (prio ~ /^"[0-2]"$/) ? "Critical" : "Error"
        out = out sep "{\"log\":" unit ",\"source\":" src ",\"id\":0,\"level\":\"" level "\",\"time\":\"" iso(int(substr(us, 2, length(us) - 2) / 1000000)) "\",\"message\":" msg "}"
        sep = ","
      }
      END { printf "[%s]", out }'
}

# Prints package-manager errors since SINCE as TSV: local time, message.
list_update_agent_errors() {
  case $PM in
    apt)
      [ -r /var/log/apt/history.log ] || fail 69 "/var/log/apt/history.log not readable"
      awk '/^Start-Date: / { start = substr($0, 13) } /^Error: / { m = substr($0, 8); gsub(/\t/, " ", m); print start "\t" m }' /var/log/apt/history.log
      ;;
    dnf)
      [ -r /var/log/dnf.log ] || fail 69 "/var/log/dnf.log not readable"
      awk '$2 == "ERROR" || $2 == "CRITICAL" { t = $1; $1 = ""; $2 = ""; sub(/^ +/, ""); gsub(/\t/, " "); print t "\t" $0 }' /var/log/dnf.log
      ;;
    zypper)
      [ -r /var/log/zypper.log ] || fail 69 "/var/log/zypper.log not readable"
      # zypp log lines: date time <level> ...; 3 is error, 4 fatal.
      awk '$3 == "<3>" || $3 == "<4>" { t = $1 " " $2; $1 = ""; $2 = ""; $3 = ""; sub(/^ +/, ""); gsub(/\t/, " "); print t "\t" $0 }' /var/log/zypper.log
      ;;
    yum) fail 69 "yum.log has no year; update-agent errors are not collected" ;;
    *) fail 69 "no supported package manager (apt, dnf, yum, zypper) found" ;;
  esac
}

# Section: package-manager errors since SINCE, newest MAX.
section_update_agent_errors() {
  local when message epoch items=()
  list_update_agent_errors | tail -n 5000 >"$PP_TMP/agent.tsv"
  while IFS=$'\t' read -r when message; do
    epoch=$(date -u -d "$when" +%s 2>/dev/null) || continue
    [ "$epoch" -ge "$SINCE_EPOCH" ] || continue
    json_str "${message:0:2000}"
    items+=("{\"time\":\"$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)\",\"message\":$REPLY}")
  done <"$PP_TMP/agent.tsv"
  if [ "${#items[@]}" -gt "$MAX" ]; then items=("${items[@]: -$MAX}"); fi
  json_array "${items[@]+"${items[@]}"}"
  printf '%s' "$REPLY"
}

systemd_running() {
  [ -d /run/systemd/system ]
}

# Section: services systemd restarted since they were loaded (in practice since boot): NRestarts > 0, the number a
# crash-looping Restart=on-failure unit accumulates. `systemctl show` prints one block of key=value lines per unit,
# blocks separated by an empty line, properties in its own order (NRestarts may come before Id): read per block.
section_service_restarts() {
  local id restarts items=()
  need systemctl
  systemd_running || fail 69 "systemd is not running (no /run/systemd/system)"
  timeout 60 systemctl list-units --type=service --all --no-legend --plain --no-pager |
    awk '{ sub(/^[^A-Za-z0-9]+/, ""); if ($1 ~ /\.service$/) print $1 }' >"$PP_TMP/restart-units"
  : >"$PP_TMP/restarts.tsv"
  if [ -s "$PP_TMP/restart-units" ]; then
    xargs -r -d '\n' -a "$PP_TMP/restart-units" timeout 60 systemctl show -p Id -p NRestarts -- |
      awk 'BEGIN { RS = ""; FS = "\n" }
        { id = ""; n = ""
          for (i = 1; i <= NF; i++) {
            if ($i ~ /^Id=/) id = substr($i, 4)
            else if ($i ~ /^NRestarts=/) n = substr($i, 11)
          }
          if (id != "" && n ~ /^[0-9]+$/ && n + 0 > 0) print id "\t" n }' >"$PP_TMP/restarts.tsv"
  fi
  while IFS=$'\t' read -r id restarts; do
    json_str "${id%.service}"
    items+=("{\"service\":$REPLY,\"restarts\":$restarts}")
  done <"$PP_TMP/restarts.tsv"
  json_array "${items[@]+"${items[@]}"}"
  printf '%s' "$REPLY"
}

now_utc
collected=$REPLY
detect_package_manager
PM=$REPLY

valid=true
SINCE=${SinceUtc-}
MAX=${MaxEvents-100}
if ! [[ $SINCE =~ $SINCE_RE ]] || ! SINCE_EPOCH=$(date -u -d "$SINCE" +%s 2>/dev/null); then
  reject_parameter SinceUtc "must be an ISO 8601 UTC time like 2026-01-20T02:00:00Z"
  valid=false
fi
if ! [[ $MAX =~ $MAX_RE ]] || [ "$MAX" -gt 500 ]; then
  reject_parameter MaxEvents "must be an integer from 1 to 500"
  valid=false
fi

events=null
agent=null
restarts=null
if [ "$valid" = true ]; then
  # journalctl reads local time everywhere (the @epoch form is missing on old systemd).
  SINCE_LOCAL=$(date -d "@$SINCE_EPOCH" '+%Y-%m-%d %H:%M:%S')
  run_section eventLogErrors section_event_log_errors
  events=$SECTION
  run_section updateAgentErrors section_update_agent_errors
  agent=$SECTION
  run_section serviceRestarts section_service_restarts
  restarts=$SECTION
fi
run_section disks section_disks
disks=$SECTION

emit_document "{\"collectedAt\":\"$collected\",\"eventLogErrors\":$events,\"updateAgentErrors\":$agent,\"serviceRestarts\":$restarts,\"disks\":$disks}"
