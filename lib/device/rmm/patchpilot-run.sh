#!/bin/bash
# Patches this device through PatchPilot and exits with the run's exit code, for RMM tools on Linux to act on.
# The bash twin of Invoke-PatchPilotRun.ps1 (docs/rmm.md): bash and curl only (no jq, no Node, no Python).
#
# Starts a run (POST /api/v1/tenants/{tenant}/runs), follows it with long-polls (GET {self}?waitSeconds=N) until its
# exit code is decided, prints one summary line and exits with that code:
#   0 Success, 150 RebootRequired, 170 ConcurrencyLock, 210 InstallFailure, 220 ValidationFailure,
#   230 DiagnosticsFailure, 240 ReportingFailure.
# 240 is also the exit code when the outcome cannot be learned: the API refused the request (401/403/4xx, its
# problem detail is printed), no exit code within the timeout, or the run failed without one.
#
# Network errors and 429/5xx answers are retried with backoff until the timeout. The start request is retried only
# when it cannot have reached PatchPilot (name resolution failed, connection refused, 429/502/503/504): a start whose
# answer was lost may have started a run, and a second start would end in 170 and hide the first.
#
# Settings (environment first, options override):
#   PATCHPILOT_BASE_URL   --base-url URL        https://...; plain http only for localhost
#   PATCHPILOT_TENANT     --tenant ID
#   PATCHPILOT_CLIENT     --client ID
#   PATCHPILOT_DEVICE     --device NAME         default: hostname
#   PATCHPILOT_API_KEY    (environment only: a key on the command line shows in process listings)
#   PATCHPILOT_DRY_RUN    --dry-run             "true": baseline, validation and catalog only
#   PATCHPILOT_TIMEOUT_MINUTES --timeout-minutes N   default 240, fractions allowed (0.5)
#   PATCHPILOT_WAIT_SECONDS    --wait-seconds N      default 60, at most 120
#   --verbose                                   stages on stderr
set -uo pipefail

BASE_URL="${PATCHPILOT_BASE_URL:-}"
TENANT="${PATCHPILOT_TENANT:-}"
CLIENT="${PATCHPILOT_CLIENT:-}"
DEVICE="${PATCHPILOT_DEVICE:-$(hostname 2>/dev/null || true)}"
API_KEY="${PATCHPILOT_API_KEY:-}"
DRY_RUN="${PATCHPILOT_DRY_RUN:-false}"
TIMEOUT_MINUTES="${PATCHPILOT_TIMEOUT_MINUTES:-240}"
WAIT_SECONDS="${PATCHPILOT_WAIT_SECONDS:-60}"
VERBOSE=false
RUN_ID=''

say() { printf '%s\n' "$1"; }
verbose() { if [ "$VERBOSE" = true ]; then printf 'VERBOSE: %s\n' "$1" >&2; fi; }

# The one way out: the summary line, then a documented exit code (anything else becomes 240).
exit_run() {
  local code="$1" name="$2" reason="${3:-}" subject="PatchPilot $DEVICE"
  if [ -n "$RUN_ID" ]; then subject="$subject run $RUN_ID"; fi
  local line="$subject: exit $code $name"
  line="${line% }"
  if [ -n "$reason" ]; then line="$line - $reason"; fi
  say "$line"
  case "$code" in
    0 | 150 | 170 | 210 | 220 | 230) exit "$code" ;;
    *) exit 240 ;;
  esac
}

while [ $# -gt 0 ]; do
  case "$1" in
    --base-url) BASE_URL="${2:-}"; shift 2 ;;
    --tenant) TENANT="${2:-}"; shift 2 ;;
    --client) CLIENT="${2:-}"; shift 2 ;;
    --device) DEVICE="${2:-}"; shift 2 ;;
    --dry-run) DRY_RUN=true; shift ;;
    --timeout-minutes) TIMEOUT_MINUTES="${2:-}"; shift 2 ;;
    --wait-seconds) WAIT_SECONDS="${2:-}"; shift 2 ;;
    --verbose) VERBOSE=true; shift ;;
    *) exit_run 240 ReportingFailure "unknown option $1" ;;
  esac
done

missing=()
[ -n "$BASE_URL" ] || missing+=("--base-url (or PATCHPILOT_BASE_URL)")
[ -n "$TENANT" ] || missing+=("--tenant (or PATCHPILOT_TENANT)")
[ -n "$CLIENT" ] || missing+=("--client (or PATCHPILOT_CLIENT)")
[ -n "$DEVICE" ] || missing+=("--device (or PATCHPILOT_DEVICE)")
[ -n "$API_KEY" ] || missing+=("PATCHPILOT_API_KEY")
if [ ${#missing[@]} -gt 0 ]; then
  joined=$(printf '%s, ' "${missing[@]}")
  exit_run 240 ReportingFailure "missing ${joined%, }"
fi
command -v curl >/dev/null 2>&1 || exit_run 240 ReportingFailure "curl is not installed"

# Minutes (fractions allowed) to whole seconds, without awk or bc.
if [[ ! "$TIMEOUT_MINUTES" =~ ^([0-9]{1,5})(\.([0-9]{1,3}))?$ ]]; then
  exit_run 240 ReportingFailure "the timeout must be a number of minutes, got $TIMEOUT_MINUTES"
fi
fraction="${BASH_REMATCH[3]}000"
TIMEOUT_SECONDS=$((10#${BASH_REMATCH[1]} * 60 + 10#${fraction:0:3} * 60 / 1000))
if [ "$TIMEOUT_SECONDS" -lt 3 ] || [ "$TIMEOUT_SECONDS" -gt 604800 ]; then
  exit_run 240 ReportingFailure "the timeout must be between 0.05 and 10080 minutes"
fi
if [[ ! "$WAIT_SECONDS" =~ ^[0-9]{1,3}$ ]] || [ "$WAIT_SECONDS" -lt 1 ] || [ "$WAIT_SECONDS" -gt 120 ]; then
  exit_run 240 ReportingFailure "the wait must be 1 to 120 seconds, got $WAIT_SECONDS"
fi
[ "$DRY_RUN" = true ] || DRY_RUN=false

# https only; plain http only for a PatchPilot on this machine (the key must not cross a network in clear).
if [[ "$BASE_URL" =~ ^(https?)://([^/?#]+)(/[^?#]*)?$ ]]; then
  scheme="${BASH_REMATCH[1]}"
  authority="${BASH_REMATCH[2]}"
  host="${authority%:*}"
  if [[ "$authority" == \[*\]* ]]; then host="${authority%%]*}]"; fi
  if [ "$scheme" = http ] && [ "$host" != localhost ] && [ "$host" != 127.0.0.1 ] && [ "$host" != '[::1]' ]; then
    exit_run 240 ReportingFailure "BaseUrl must be an https:// address, got $BASE_URL"
  fi
else
  exit_run 240 ReportingFailure "BaseUrl must be an https:// address, got $BASE_URL"
fi
ROOT="${BASE_URL%/}"
ORIGIN="$scheme://$authority"
DEADLINE=$((SECONDS + TIMEOUT_SECONDS))

# The key travels in a header file only this user can read (never on curl's command line).
WORK=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/patchpilot-run.XXXXXX") || exit_run 240 ReportingFailure "no temporary directory"
trap 'rm -rf "$WORK"' EXIT
printf 'x-api-key: %s\n' "$API_KEY" >"$WORK/key"
BODY="$WORK/body"

# A JSON string literal; control characters are refused (no device or client name holds one).
json_string() {
  local s="$1"
  if [[ "$s" =~ [[:cntrl:]] ]]; then return 1; fi
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

# A field of the answer, by name (the first occurrence): a number, true/false/null, or a string (unescaped). Enough
# for PatchPilot's own compact answers; not a general JSON parser. Regexes live in variables, so bash applies its
# ERE as written.
json_field() {
  local name="$1" text number string
  text=$(<"$BODY")
  number='"'"$name"'":(-?[0-9]+|true|false|null)'
  string='"'"$name"'":"(([^"\\]|\\.)*)"'
  if [[ "$text" =~ $number ]]; then
    printf '%s' "${BASH_REMATCH[1]}"
  elif [[ "$text" =~ $string ]]; then
    json_unescape "${BASH_REMATCH[1]}"
  fi
}

# The first string of an array field (reasons).
json_first_string() {
  local name="$1" text re
  text=$(<"$BODY")
  re='"'"$name"'":\["(([^"\\]|\\.)*)"'
  if [[ "$text" =~ $re ]]; then json_unescape "${BASH_REMATCH[1]}"; fi
}

json_unescape() {
  local s="$1" bs=$'\001'
  s="${s//\\\\/$bs}"
  s="${s//\\\"/\"}"
  s="${s//\\\//\/}"
  s="${s//\\n/ }"
  s="${s//\\r/ }"
  s="${s//\\t/ }"
  s="${s//$bs/\\}"
  printf '%s' "$s"
}

# One request. Sets HTTP_STATUS (000 when no answer came) and CURL_EXIT; the body is in $BODY.
request() {
  local method="$1" url="$2" max_time="$3" data="${4:-}"
  local args=(-sS -o "$BODY" -D "$WORK/headers" -w '%{http_code}' -X "$method" -H @"$WORK/key" -H 'accept: application/json'
    --max-time "$max_time" --connect-timeout 30)
  if [ -n "$data" ]; then args+=(-H 'content-type: application/json; charset=utf-8' --data-binary "$data"); fi
  : >"$BODY"
  : >"$WORK/headers"
  HTTP_STATUS=$(curl "${args[@]}" "$url" 2>"$WORK/curl.err")
  CURL_EXIT=$?
  [ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
}

# What a failed request says: "HTTP 401: <problem detail>" or curl's own message.
failure_detail() {
  if [ "$HTTP_STATUS" != 000 ]; then
    local detail
    detail=$(json_field detail)
    [ -n "$detail" ] || detail=$(json_field title)
    if [ -n "$detail" ]; then printf 'HTTP %s: %s' "$HTTP_STATUS" "$detail"; else printf 'HTTP %s' "$HTTP_STATUS"; fi
  else
    local err
    err=$(head -c 300 "$WORK/curl.err" | tr '\n' ' ')
    printf '%s' "${err:-curl exited $CURL_EXIT}"
  fi
}

seconds_left() {
  local left=$((DEADLINE - SECONDS))
  if [ "$left" -lt 1 ]; then left=1; fi
  printf '%s' "$left"
}

# Seconds to wait before retry number $1: the server's Retry-After (at most 120), else 5, 10, 20, 40, 60, 60, ...
# plus jitter.
backoff() {
  local attempt="$1" base=5 header re='^[Rr]etry-[Aa]fter:[[:space:]]*([0-9]+)'
  while IFS= read -r header; do
    if [[ "${header%$'\r'}" =~ $re ]]; then
      local after=$((10#${BASH_REMATCH[1]}))
      printf '%s' $((after > 120 ? 120 : after))
      return
    fi
  done <"$WORK/headers"
  while [ "$attempt" -gt 0 ] && [ "$base" -lt 60 ]; do base=$((base * 2)); attempt=$((attempt - 1)); done
  if [ "$base" -gt 60 ]; then base=60; fi
  printf '%s' $((base + RANDOM % 5))
}

urlencode() {
  local LC_ALL=C s="$1" out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in [A-Za-z0-9._~-]) out+="$c" ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
  done
  printf '%s' "$out"
}

# --- start the run ---
client_json=$(json_string "$CLIENT") || exit_run 240 ReportingFailure "the client holds a control character"
device_json=$(json_string "$DEVICE") || exit_run 240 ReportingFailure "the device holds a control character"
start_body="{\"client\":$client_json,\"device\":$device_json,\"dryRun\":$DRY_RUN}"
start_url="$ROOT/api/v1/tenants/$(urlencode "$TENANT")/runs"
attempt=0
while true; do
  left=$(seconds_left)
  request POST "$start_url" $((left < 100 ? left : 100)) "$start_body"
  if [ "$HTTP_STATUS" = 202 ] || [ "$HTTP_STATUS" = 200 ]; then break; fi
  detail=$(failure_detail)
  retryable=false
  # curl 6: could not resolve host; 7: could not connect. Neither request reached PatchPilot.
  if [ "$HTTP_STATUS" = 000 ] && { [ "$CURL_EXIT" = 6 ] || [ "$CURL_EXIT" = 7 ]; }; then retryable=true; fi
  case "$HTTP_STATUS" in 429 | 502 | 503 | 504) retryable=true ;; esac
  if [ "$retryable" != true ]; then
    reason="could not start the run: $detail"
    if [ "$HTTP_STATUS" = 000 ] || [ "$HTTP_STATUS" -ge 500 ]; then
      reason="$reason (it may have started; look for it in PatchPilot before starting another)"
    fi
    exit_run 240 ReportingFailure "$reason"
  fi
  wait=$(backoff "$attempt")
  if [ $((SECONDS + wait)) -gt "$DEADLINE" ]; then
    exit_run 240 ReportingFailure "could not start the run within $TIMEOUT_MINUTES minutes: $detail"
  fi
  verbose "start failed ($detail); retrying in $wait s"
  sleep "$wait"
  attempt=$((attempt + 1))
done
RUN_ID=$(json_field runId)
self=$(json_field self)
if [ -z "$RUN_ID" ] || [[ ! "$self" =~ ^/[A-Za-z0-9/._~%-]*$ ]]; then
  RUN_ID=''
  exit_run 240 ReportingFailure "the start answer has no run id or status link"
fi
verbose "started run $RUN_ID ($self)"

# --- follow it until the exit code is decided ---
status_url="$ORIGIN$self?waitSeconds=$WAIT_SECONDS"
attempt=0
last_stage=''
while true; do
  if [ "$SECONDS" -ge "$DEADLINE" ]; then
    exit_run 240 ReportingFailure "no exit code after $TIMEOUT_MINUTES minutes; the run goes on, see $self"
  fi
  left=$(seconds_left)
  max=$((WAIT_SECONDS + 60))
  request GET "$status_url" $((left < max ? left : max))
  if [ "$HTTP_STATUS" != 200 ]; then
    detail=$(failure_detail)
    case "$HTTP_STATUS" in
      000 | 408 | 429 | 500 | 502 | 503 | 504) ;;
      *) exit_run 240 ReportingFailure "could not read the run: $detail" ;;
    esac
    wait=$(backoff "$attempt")
    if [ $((SECONDS + wait)) -gt "$DEADLINE" ]; then
      exit_run 240 ReportingFailure "no exit code after $TIMEOUT_MINUTES minutes ($detail); the run goes on, see $self"
    fi
    verbose "status failed ($detail); retrying in $wait s"
    sleep "$wait"
    attempt=$((attempt + 1))
    continue
  fi
  attempt=0
  exit_code=$(json_field exitCode)
  if [[ "$exit_code" =~ ^[0-9]+$ ]]; then
    exit_run "$exit_code" "$(json_field exitCodeName)" "$(json_first_string reasons)"
  fi
  lifecycle=$(json_field status)
  if [ "$lifecycle" = failed ]; then
    exit_run 240 ReportingFailure "the run failed without an exit code; see its evidence in PatchPilot"
  fi
  stage="$lifecycle/$(json_field stage)"
  if [ "$stage" != "$last_stage" ]; then
    last_stage="$stage"
    verbose "run $RUN_ID: $stage"
  fi
done
