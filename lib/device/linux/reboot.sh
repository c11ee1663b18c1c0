#!/bin/bash
# patchpilot-script: reboot@1.0.0
# Schedules a restart with a comment and a short delay (phase 06); reports the boot time before it. With RebootMarker
# (the reboot section of an install's run command, issue 22), only when the install left that marker: it is read once
# and removed, and without it nothing is scheduled and the document says so (requested false).
# Prints one JSON document on stdout (contract: lib/schemas/device/reboot.ts; docs/device-scripts.md).
# Run Command may start this file with sh; everything below needs bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
SCRIPT_ID=reboot
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

# The same patterns as RebootParamsSchema (lib/schemas/device/parameters.ts).
DELAY_RE='^(0|[1-9][0-9]{0,2})$'
COMMENT_RE='^[A-Za-z0-9 ._:/()-]{0,200}$'

# Schedules the restart outside Run Command's process tree, so the agent can still upload this document.
# systemd-run keeps the exact delay; shutdown(8) only takes whole minutes, so its delay is rounded up.
schedule_reboot() {
  local minutes
  if command -v systemd-run >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    METHOD=systemctl
    DELAY_USED=$DELAY
    systemd-run --quiet --on-active="${DELAY}s" --timer-property=AccuracySec=1s \
      --description="PatchPilot reboot: $COMMENT" systemctl reboot >"$PP_TMP/reboot.out" 2>&1
  elif command -v shutdown >/dev/null 2>&1; then
    METHOD=shutdown
    minutes=$(((DELAY + 59) / 60))
    if [ "$minutes" -lt 1 ]; then minutes=1; fi
    DELAY_USED=$((minutes * 60))
    shutdown -r -- "+$minutes" "$COMMENT" >"$PP_TMP/reboot.out" 2>&1
  else
    METHOD=none
    DELAY_USED=$DELAY
    echo "neither systemd-run nor shutdown found" >"$PP_TMP/reboot.out"
    return 69
  fi
}

boot_before=''
rc=0
boot_time_utc 2>"$PP_TMP/boot.err" || rc=$?
if [ "$rc" -eq 0 ]; then boot_before=$REPLY; else add_error bootTimeBefore "$(cat "$PP_TMP/boot.err")" not-available; fi

valid=true
DELAY=${DelaySeconds-}
COMMENT=${Comment-}
if ! [[ $DELAY =~ $DELAY_RE ]] || [ "$DELAY" -gt 600 ]; then
  reject_parameter DelaySeconds "must be an integer from 0 to 600"
  valid=false
  DELAY=0
fi
if ! [[ $COMMENT =~ $COMMENT_RE ]]; then
  reject_parameter Comment "must be plain text (letters, digits, space . _ : / ( ) -), at most 200 characters"
  valid=false
fi

# The install earlier in this same run command leaves the marker when it needs a restart (install.sh RebootMarker).
requested=true
MARKER=${RebootMarker-}
if [ -n "$MARKER" ]; then
  if ! [[ $MARKER =~ ^[A-Za-z0-9-]{8,64}$ ]]; then
    reject_parameter RebootMarker "must be 8-64 letters, digits or -"
    valid=false
  else
    marker_file="${TMPDIR:-/tmp}/patchpilot-reboot-required-$MARKER"
    if [ -f "$marker_file" ] && [ ! -L "$marker_file" ] && [ -O "$marker_file" ]; then
      rm -f -- "$marker_file"
    else
      requested=false
    fi
  fi
fi

now_utc
scheduled_at=$REPLY
scheduled=false
METHOD=none
DELAY_USED=$DELAY
if [ "$valid" = true ] && [ "$requested" = true ] && [ -n "$boot_before" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    add_error scheduled "scheduling a restart needs root" permission-denied
  else
    rc=0
    schedule_reboot || rc=$?
    if [ "$rc" -eq 0 ]; then
      scheduled=true
    else
      add_error scheduled "$METHOD failed ($rc): $(tail -c 1500 "$PP_TMP/reboot.out")" "exit-$rc"
    fi
  fi
fi

# The schema needs a boot time; when /proc/stat had none the document still says when it was asked (and errors why).
emit_document "{\"bootTimeBefore\":\"${boot_before:-$scheduled_at}\",\"scheduledAt\":\"$scheduled_at\",\"delaySeconds\":$DELAY_USED,\"method\":\"$METHOD\",\"scheduled\":$scheduled,\"requested\":$requested}"
