#!/bin/bash
# patchpilot-script: validate@1.0.0
# Runs the AppValidationPolicy checks it is given (phases 04 and 08) and reports every attempt.
# Prints one JSON document on stdout (contract: lib/schemas/device/validate.ts; docs/device-scripts.md).
# Run Command may start this file with sh; everything below needs bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
SCRIPT_ID=validate
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

# Field patterns mirror CheckSchema (lib/schemas/policies.ts). Lengths are in bytes (LC_ALL=C), so text limits
# allow 4 bytes per character: a value the backend accepted is never refused for being non-ASCII.
B64_RE='^[A-Za-z0-9+/]*={0,2}$'
ATTEMPTS_RE='^([1-9]|10)$'
SETTLE_RE='^(0|[1-9][0-9]{0,3})$'
TIMEOUT_RE='^[1-9][0-9]{0,2}$'
URL_RE='^https?://[^[:space:]]+$'
STATUS_RE='^[1-5][0-9][0-9]( [1-5][0-9][0-9])*$'
HOST_RE='^[A-Za-z0-9._:-]{1,253}$'
PORT_RE='^[1-9][0-9]{0,4}$'
COUNT_RE='^(0|[1-9][0-9]{0,5})$'
EXIT_RE='^-?(0|[1-9][0-9]{0,9})$'
IDS_RE='^([0-9]{1,10}( [0-9]{1,10})*)?$'
LOOKBACK_RE='^[1-9][0-9]{0,3}$'

# Sets REPLY to the UTF-8 text of a base64 field; fails on anything that is not base64.
decode_field() {
  [[ $1 =~ $B64_RE ]] || return 1
  REPLY=$(printf '%s' "$1" | base64 -d 2>/dev/null && printf x) || return 1
  REPLY=${REPLY%x}
}

# True when $1 is non-empty text of at most $2 characters.
is_text() {
  [ -n "$1" ] && [ "${#1}" -le $(($2 * 4)) ]
}

# True when $1 is text of at most $2 characters on one line (names handed to systemctl, ps, journalctl).
is_name() {
  is_text "$1" "$2" && [[ $1 != *[$'\n\r']* ]]
}

# Validates the record decoded into F; sets REPLY to the first bad field's name.
check_record() {
  local n=${#F[@]}
  REPLY=app
  is_text "${F[0]}" 100 || return 1
  REPLY=name
  is_text "${F[1]}" 100 || return 1
  REPLY=attempts
  [[ ${F[3]} =~ $ATTEMPTS_RE ]] || return 1
  REPLY=settleSeconds
  [[ ${F[4]} =~ $SETTLE_RE ]] && [ "${F[4]}" -le 3600 ] || return 1
  REPLY=timeoutSeconds
  [[ ${F[5]} =~ $TIMEOUT_RE ]] && [ "${F[5]}" -le 600 ] || return 1
  REPLY=type
  case ${F[2]} in
    http)
      [ "$n" -eq 10 ] || return 1
      REPLY=url
      [[ ${F[6]} =~ $URL_RE ]] && [ "${#F[6]}" -le 2048 ] || return 1
      REPLY=method
      [[ ${F[7]} == GET || ${F[7]} == HEAD ]] || return 1
      REPLY=expectStatus
      [[ ${F[8]} =~ $STATUS_RE ]] || return 1
      REPLY=bodyContains
      [ "${#F[9]}" -le 4000 ] || return 1
      ;;
    service)
      [ "$n" -eq 8 ] || return 1
      REPLY=serviceName
      is_name "${F[6]}" 256 || return 1
      REPLY=expectState
      [[ ${F[7]} == Running || ${F[7]} == Stopped ]] || return 1
      ;;
    tcp)
      [ "$n" -eq 8 ] || return 1
      REPLY=host
      [[ ${F[6]} =~ $HOST_RE ]] || return 1
      REPLY=port
      [[ ${F[7]} =~ $PORT_RE ]] && [ "${F[7]}" -le 65535 ] || return 1
      ;;
    process)
      [ "$n" -eq 8 ] || return 1
      REPLY=processName
      is_name "${F[6]}" 256 || return 1
      REPLY=minCount
      [[ ${F[7]} =~ $COUNT_RE ]] && [ "${F[7]}" -ge 1 ] || return 1
      ;;
    script)
      [ "$n" -eq 9 ] || return 1
      REPLY=shell
      [[ ${F[6]} == bash || ${F[6]} == powershell ]] || return 1
      REPLY=script
      [ -n "${F[7]}" ] && [ "${#F[7]}" -le 32000 ] || return 1
      REPLY=expectExitCode
      [[ ${F[8]} =~ $EXIT_RE ]] || return 1
      ;;
    eventlog)
      [ "$n" -eq 12 ] || return 1
      REPLY=logName
      is_name "${F[6]}" 256 || return 1
      REPLY=source
      [ -z "${F[7]}" ] || is_name "${F[7]}" 256 || return 1
      REPLY=eventIds
      [[ ${F[8]} =~ $IDS_RE ]] || return 1
      REPLY=level
      [[ ${F[9]} == Critical || ${F[9]} == Error || ${F[9]} == Warning ]] || return 1
      REPLY=lookbackMinutes
      [[ ${F[10]} =~ $LOOKBACK_RE ]] && [ "${F[10]}" -le 1440 ] || return 1
      REPLY=maxCount
      [[ ${F[11]} =~ $COUNT_RE ]] || return 1
      ;;
    *) return 1 ;;
  esac
}

# Each check sets OK (true/false) and DETAIL from the fields in F; T is the attempt's timeout in seconds.
check_http() {
  local url=${F[6]} method=${F[7]} expect=" ${F[8]} " contains=${F[9]} code body rc=0 head=()
  if ! command -v curl >/dev/null 2>&1; then
    DETAIL='curl not found'
    return 0
  fi
  if [ "$method" = HEAD ]; then head=(-I); fi
  # -q: ignore ~/.curlrc; only http(s), also on redirects (which are not followed: the status is checked as is).
  code=$(timeout $((T + 5)) curl -q -sS "${head[@]}" -o "$PP_TMP/body" -w '%{http_code}' --max-time "$T" \
    --proto '=http,https' --proto-redir '=http,https' "$url" 2>"$PP_TMP/curl.err") || rc=$?
  if [ "$rc" -ne 0 ]; then
    DETAIL="request failed (curl exit $rc): $(head -c 300 "$PP_TMP/curl.err")"
    return 0
  fi
  if [[ $expect != *" $code "* ]]; then
    DETAIL="HTTP $code, expected one of:${expect% }"
    return 0
  fi
  if [ -n "$contains" ]; then
    body=$(head -c 1048576 "$PP_TMP/body" 2>/dev/null | tr -d '\000')
    if [[ $body != *"$contains"* ]]; then
      DETAIL="HTTP $code, body does not contain the expected text"
      return 0
    fi
  fi
  OK=true
  DETAIL="HTTP $code"
}

check_service() {
  local name=${F[6]} expect=${F[7]} state
  if ! command -v systemctl >/dev/null 2>&1 || ! [ -d /run/systemd/system ]; then
    DETAIL='systemd is not running; service state unknown'
    return 0
  fi
  state=$(timeout "$T" systemctl show -p ActiveState --value -- "$name" 2>/dev/null) || state=unknown
  case $expect:$state in
    Running:active | Stopped:inactive | Stopped:failed) OK=true ;;
  esac
  DETAIL="ActiveState=$state, expected $expect"
}

check_tcp() {
  local rc=0
  # Host and port are arguments of the inner bash, never part of its script text.
  timeout "$T" bash -c 'exec 3<>"/dev/tcp/$1/$2"' tcp "${F[6]}" "${F[7]}" 2>/dev/null || rc=$?
  if [ "$rc" -eq 0 ]; then
    OK=true
    DETAIL="connected to port ${F[7]}"
  elif [ "$rc" -eq 124 ]; then
    DETAIL="no connection within ${T}s"
  else
    DETAIL="connection refused or host unreachable"
  fi
}

check_process() {
  local count
  # comm is at most 15 bytes; awk compares exact text read from the environment (awk -v would expand escapes).
  count=$(ps -e -o comm= 2>/dev/null | PP_NAME=${F[6]:0:15} awk '$0 == ENVIRON["PP_NAME"] { c++ } END { print c + 0 }')
  if [ "$count" -ge "${F[7]}" ]; then OK=true; fi
  DETAIL="$count running, at least ${F[7]} expected"
}

check_script() {
  local shell=${F[6]} expect=${F[8]} rc=0 runner=() file=$PP_TMP/check-script
  case $shell in
    bash) runner=(bash) ;;
    powershell)
      if ! command -v pwsh >/dev/null 2>&1; then
        DETAIL='pwsh not found'
        return 0
      fi
      runner=(pwsh -NoProfile -NonInteractive -File)
      file+=.ps1
      ;;
  esac
  # The script text goes to a file and runs as a program (never eval); its output is dropped: it may hold secrets.
  printf '%s' "${F[7]}" >"$file"
  (cd / && timeout "$T" "${runner[@]}" "$file" </dev/null >/dev/null 2>&1) || rc=$?
  if [ "$rc" -eq 124 ]; then
    DETAIL="timed out after ${T}s"
  else
    if [ "$rc" -eq "$expect" ]; then OK=true; fi
    DETAIL="exit $rc, expected $expect"
  fi
}

check_eventlog() {
  local log=${F[6]} source=${F[7]} level=${F[9]} lookback=${F[10]} max=${F[11]} since count rc=0 args=()
  if ! journal_available; then
    DETAIL='journal not available'
    return 0
  fi
  case $level in Critical) args+=(-p 0..2) ;; Error) args+=(-p 0..3) ;; Warning) args+=(-p 0..4) ;; esac
  # Windows log names map to the whole journal; "kernel" to kernel messages; anything else is a systemd unit.
  case $log in
    System | system | Application | application | journal) ;;
    kernel) args+=(-k) ;;
    *) args+=(-u "$log") ;;
  esac
  if [ -n "$source" ]; then args+=(-t "$source"); fi
  # Local time: the @epoch form is missing on old systemd.
  since=$(date -d "-$lookback min" '+%Y-%m-%d %H:%M:%S')
  count=$(timeout "$T" journalctl -q --no-pager -o export --since "$since" -n $((max + 1)) "${args[@]}" 2>/dev/null |
    grep -c '^__CURSOR=') || rc=$?
  if [ "$rc" -gt 1 ]; then
    DETAIL="journalctl failed ($rc)"
    return 0
  fi
  if [ "$count" -le "$max" ]; then OK=true; fi
  DETAIL="$count matching entries in the last ${lookback} min, at most $max allowed"
  if [ -n "${F[8]}" ]; then DETAIL+=" (event ids do not apply to the journal)"; fi
}

# Runs record F with its attempts; the settle delay comes before every attempt. Appends one result to RESULTS.
run_check() {
  local attempts=${F[3]} settle=${F[4]} i success=false at entry tries=() tries_json
  T=${F[5]}
  for ((i = 1; i <= attempts; i++)); do
    if [ "$settle" -gt 0 ]; then sleep "$settle"; fi
    now_utc
    at=$REPLY
    OK=false
    DETAIL=''
    "check_${F[2]}"
    json_str "${DETAIL:0:4000}"
    tries+=("{\"at\":\"$at\",\"success\":$OK,\"detail\":$REPLY}")
    if [ "$OK" = true ]; then
      success=true
      break
    fi
  done
  json_array "${tries[@]}"
  tries_json=$REPLY
  json_str "${F[0]}"
  entry="{\"app\":$REPLY"
  json_str "${F[1]}"
  RESULTS+=("$entry,\"check\":$REPLY,\"type\":\"${F[2]}\",\"success\":$success,\"attempts\":$tries_json}")
}

now_utc
started=$REPLY
RESULTS=()
RECORDS=()
valid=true
CHECKS=${Checks-}
if [[ $CHECKS == *[!A-Za-z0-9+/=.,]* ]]; then
  reject_parameter Checks "must be base64 fields joined by . and records joined by ,"
  valid=false
elif [ -n "$CHECKS" ]; then
  IFS=',' read -r -a RECORDS <<<"$CHECKS,"
  if [ "${#RECORDS[@]}" -gt 100 ]; then
    reject_parameter Checks "at most 100 checks"
    valid=false
  fi
fi

# Every record is decoded and validated before any check runs: a list with one bad record is refused whole.
if [ "$valid" = true ]; then
  for r in "${!RECORDS[@]}"; do
    IFS='.' read -r -a raw <<<"${RECORDS[$r]}."
    F=()
    bad=''
    for field in "${raw[@]}"; do
      if ! decode_field "$field"; then
        bad='a field that is not base64'
        break
      fi
      F+=("$REPLY")
    done
    if [ -z "$bad" ] && [ "${#F[@]}" -lt 6 ]; then bad='too few fields'; fi
    # check_record names the failing field in REPLY; the value itself is never echoed.
    if [ -z "$bad" ] && ! check_record; then bad="invalid field $REPLY"; fi
    if [ -n "$bad" ]; then
      reject_parameter Checks "check $r: $bad"
      valid=false
      break
    fi
  done
fi

if [ "$valid" = true ]; then
  for r in "${!RECORDS[@]}"; do
    IFS='.' read -r -a raw <<<"${RECORDS[$r]}."
    F=()
    for field in "${raw[@]}"; do
      decode_field "$field"
      F+=("$REPLY")
    done
    run_check
  done
fi

json_array "${RESULTS[@]+"${RESULTS[@]}"}"
results=$REPLY
now_utc
emit_document "{\"startedAt\":\"$started\",\"finishedAt\":\"$REPLY\",\"results\":$results}"
