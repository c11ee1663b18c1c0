#!/bin/bash
# patchpilot-script: hooks@1.0.0
# Carries out one hook point's actions in order (phases 05 and 07): stop or start a systemd service and wait until it
# reached the state, or run an MSP script; reports each action. Every action runs even after one failed. With Fence
# (the pre-install point), a failed action leaves a fence that stops the install in the same run command.
# Prints one JSON document on stdout (contract: lib/schemas/device/hooks.ts; docs/device-scripts.md).
# Run Command may start this file with sh; everything below needs bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
SCRIPT_ID=hooks
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

# Field patterns mirror HooksParamsSchema (lib/schemas/device/parameters.ts).
B64_RE='^[A-Za-z0-9+/]*={0,2}$'
ACTIONS_RE='^[A-Za-z0-9+/=.,]*$'
TARGET_RE='^[A-Za-z0-9][A-Za-z0-9@._-]{0,255}$'
TIMEOUT_RE='^[1-9][0-9]{0,2}$'
FENCE_RE='^[A-Za-z0-9-]{8,64}$'

# Sets REPLY to the UTF-8 text of a base64 field; fails on anything that is not base64.
decode_field() {
  [[ $1 =~ $B64_RE ]] || return 1
  REPLY=$(printf '%s' "$1" | base64 -d 2>/dev/null && printf x) || return 1
  REPLY=${REPLY%x}
}

now_ms() {
  REPLY=$(($(date +%s%N) / 1000000))
}

# Sets REPLY to the unit's ActiveState (active, inactive, failed, activating, deactivating, ...).
unit_state() {
  REPLY=$(systemctl is-active -- "$1.service" 2>/dev/null || true)
  REPLY=${REPLY:-unknown}
}

# Asks systemd to stop or start a service, then waits until it is inactive/failed (stop) or active (start).
# Sets OK, STATE and DETAIL.
service_action() {
  local kind=$1 name=$2 timeout=$3 deadline rc=0
  OK=false
  STATE=null
  # Without systemd running, systemctl itself fails and says so: the action fails with its words.
  if ! command -v systemctl >/dev/null 2>&1; then
    DETAIL='systemctl not found'
    return 0
  fi
  timeout "$timeout" systemctl "$kind" --no-ask-password -- "$name.service" >"$PP_TMP/action.out" 2>&1 || rc=$?
  deadline=$(($(date +%s) + timeout))
  while :; do
    unit_state "$name"
    if [ "$kind" = stop ] && { [ "$REPLY" = inactive ] || [ "$REPLY" = failed ]; }; then OK=true; fi
    if [ "$kind" = start ] && [ "$REPLY" = active ]; then OK=true; fi
    if [ "$OK" = true ] || [ "$(date +%s)" -ge "$deadline" ]; then break; fi
    sleep 1
  done
  json_str "$REPLY"
  STATE=$REPLY
  if [ "$OK" = true ]; then
    DETAIL="systemctl $kind exited $rc; now $(unit_state "$name"; printf '%s' "$REPLY")"
  else
    DETAIL="systemctl $kind exited $rc: $(tail -c 1000 "$PP_TMP/action.out" | tr '\n' ' ')"
  fi
}

# Runs an MSP script as a program (never eval) from /, with no input and its output dropped; sets OK, CODE, DETAIL.
script_action() {
  local timeout=$1 text=$2 rc=0
  printf '%s' "$text" >"$PP_TMP/hook-script"
  (cd / && timeout "$timeout" bash "$PP_TMP/hook-script" </dev/null >/dev/null 2>&1) || rc=$?
  if [ "$rc" -eq 124 ]; then
    OK=false
    CODE=null
    DETAIL="timed out after ${timeout}s"
  else
    CODE=$rc
    if [ "$rc" -eq 0 ]; then OK=true; else OK=false; fi
    DETAIL="exit $rc"
  fi
}

now_utc
started_at=$REPLY
ACTIONS=${Actions-}
KINDS=()
TARGETS=()
TIMEOUTS=()
TEXTS=()
valid=true
if ! [[ $ACTIONS =~ $ACTIONS_RE ]]; then
  reject_parameter Actions "must be base64 fields joined by . and records joined by ,"
  valid=false
elif [ -n "$ACTIONS" ]; then
  IFS=, read -r -a RECORDS <<<"$ACTIONS"
  if [ "${#RECORDS[@]}" -gt 60 ]; then
    reject_parameter Actions "at most 60 actions"
    valid=false
  fi
  # Every record is validated before any action runs: a list with one bad record is refused whole.
  for ((r = 0; r < ${#RECORDS[@]}; r++)); do
    [ "$valid" = true ] || break
    IFS=. read -r -a RAW <<<"${RECORDS[r]}"
    F=()
    bad=''
    if [ "${#RAW[@]}" -lt 3 ] || [ "${#RAW[@]}" -gt 4 ]; then bad='not 4 fields'; fi
    for raw in "${RAW[@]}"; do
      if [ -z "$bad" ] && decode_field "$raw"; then F+=("$REPLY"); elif [ -z "$bad" ]; then bad='a field that is not base64'; fi
    done
    # An empty last field (a service's script) leaves no field after read -a.
    if [ -z "$bad" ] && [ "${#F[@]}" -eq 3 ]; then F+=(''); fi
    if [ -z "$bad" ]; then
      if [[ ${F[0]} != stop && ${F[0]} != start && ${F[0]} != script ]]; then
        bad='invalid field kind'
      elif ! [[ ${F[1]} =~ $TARGET_RE ]]; then
        bad='invalid field target'
      elif ! [[ ${F[2]} =~ $TIMEOUT_RE ]] || [ "${F[2]}" -gt 600 ]; then
        bad='invalid field timeoutSeconds'
      elif [ "${F[0]}" = script ] && { [ -z "${F[3]}" ] || [ "${#F[3]}" -gt 128000 ]; }; then
        bad='invalid field script'
      fi
    fi
    if [ -n "$bad" ]; then
      reject_parameter Actions "action $r: $bad"
      valid=false
    else
      KINDS+=("${F[0]}")
      TARGETS+=("${F[1]}")
      TIMEOUTS+=("${F[2]}")
      TEXTS+=("${F[3]}")
    fi
  done
fi

RESULTS=()
actions=null
if [ "$valid" = true ]; then
  for ((i = 0; i < ${#KINDS[@]}; i++)); do
    now_ms
    t0=$REPLY
    CODE=null
    STATE=null
    case ${KINDS[i]} in
      stop | start) service_action "${KINDS[i]}" "${TARGETS[i]}" "${TIMEOUTS[i]}" ;;
      script) script_action "${TIMEOUTS[i]}" "${TEXTS[i]}" ;;
    esac
    now_ms
    t1=$REPLY
    json_str "${TARGETS[i]}"
    entry="{\"kind\":\"${KINDS[i]}\",\"target\":$REPLY,\"ok\":$OK,\"state\":$STATE,\"exitCode\":$CODE,\"durationMs\":$((t1 - t0))"
    json_str "${DETAIL:0:2000}"
    RESULTS+=("$entry,\"detail\":$REPLY}")
  done
  json_array "${RESULTS[@]+"${RESULTS[@]}"}"
  actions=$REPLY
fi

# The pre-install point's fence (issue 20): the install later in the same run command reads it, and installs nothing
# when it says an action failed. Written by rename from our own temporary folder (never through a planted link) and
# removed when every action succeeded, so a fence never outlives the point that wrote it.
FENCE=${Fence-}
if [ -n "$FENCE" ]; then
  if ! [[ $FENCE =~ $FENCE_RE ]]; then
    reject_parameter Fence "must be 8-64 letters, digits or -"
  else
    fence_file="${TMPDIR:-/tmp}/patchpilot-hook-failed-$FENCE"
    failed=''
    if [ "$valid" != true ]; then failed='the hook actions were refused'; fi
    for ((i = 0; i < ${#RESULTS[@]}; i++)); do
      if [[ ${RESULTS[i]} == *'"ok":false'* ]]; then failed+="${failed:+, }${KINDS[i]} ${TARGETS[i]}"; fi
    done
    if [ -n "$failed" ]; then
      printf '%s\n' "$failed" >"$PP_TMP/fence"
      mv -f -- "$PP_TMP/fence" "$fence_file"
    else
      rm -f -- "$fence_file"
    fi
  fi
fi
now_utc
emit_document "{\"startedAt\":\"$started_at\",\"finishedAt\":\"$REPLY\",\"actions\":$actions}"
