#!/bin/bash
# patchpilot-script: catalog@1.0.0
# Lists applicable updates for phase 03 (Simulate=true: no package-list refresh).
# Prints one JSON document on stdout (contract: lib/schemas/device/catalog.ts; docs/device-scripts.md).
# Run Command may start this file with sh; everything below needs bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
SCRIPT_ID=catalog
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

# Prints candidate updates as TSV: name, current version (empty when new), candidate version, source, size.
list_apt_candidates() {
  apt-get -s -q -o Debug::NoLocking=1 dist-upgrade 2>"$PP_TMP/apt.err" |
    awk '
      # Inst name [current] (candidate origin[, origin...] [arch]) ...
      $1 == "Inst" {
        name = $2; cur = ""; rest = substr($0, length($1 $2) + 3)
        if (substr(rest, 1, 1) == "[") { cur = substr(rest, 2, index(rest, "]") - 2); rest = substr(rest, index(rest, "]") + 2) }
        if (substr(rest, 1, 1) != "(") next
        rest = substr(rest, 2); sp = index(rest, " "); cand = substr(rest, 1, sp - 1); rest = substr(rest, sp + 1)
        end = index(rest, " ["); if (end == 0) end = index(rest, ")")
        print name "\t" cur "\t" cand "\t" substr(rest, 1, end - 1)
      }' >"$PP_TMP/candidates.tsv" || fail 1 "$(tail -c 1000 "$PP_TMP/apt.err")"
  # Sizes for every candidate in one apt-cache call (a missing one only loses its size).
  cut -f1,3 "$PP_TMP/candidates.tsv" | tr '\t' '=' | xargs -r -d '\n' apt-cache show 2>/dev/null |
    awk '/^Package: / { p = $2 } /^Version: / { v = $2 } /^Size: / { print p "=" v "\t" $2 }' >"$PP_TMP/sizes.tsv" || true
  # Release dates from each candidate's changelog: its first entry's trailer line " -- name <email>  <RFC 5322 date>"
  # (Debian Policy 4.4). apt-get changelog downloads it, so only when not simulating; one that fails has no date.
  : >"$PP_TMP/dates.tsv"
  if [ "$SIMULATE" = false ]; then
    local pkg ver when
    # Unit separator, not tab: IFS whitespace would merge the empty current-version field of a new package.
    while IFS=$'\x1f' read -r pkg _ ver _; do
      when=$(timeout 30 apt-get changelog -q "$pkg=$ver" 2>/dev/null | awk '/^ -- / { sub(/^.*>  /, ""); print; exit }') || true
      [ -n "$when" ] && printf '%s\t%s\n' "$pkg" "$when" >>"$PP_TMP/dates.tsv"
    done < <(tr '\t' '\037' <"$PP_TMP/candidates.tsv")
  fi
  # name, current, candidate, origin, size, severity (apt has none), release date.
  awk -F '\t' '
    FILENAME == ARGV[1] { size[$1] = $2; next }
    FILENAME == ARGV[2] { date[$1] = $2; next }
    { print $0 "\t" size[$1 "=" $3] "\t\t" date[$1] }' "$PP_TMP/sizes.tsv" "$PP_TMP/dates.tsv" "$PP_TMP/candidates.tsv"
}

# Same TSV for dnf/yum: check-update exits 100 when updates exist; updateinfo marks security ones.
list_rpm_candidates() {
  local tool=$1 cache=$2 rc=0
  timeout 900 "$tool" -q $cache check-update >"$PP_TMP/check.txt" 2>"$PP_TMP/check.err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 100 ]; then fail 1 "$tool check-update exited $rc: $(tail -c 1000 "$PP_TMP/check.err")"; fi
  # Advisories for the available updates. `updateinfo list` prints "ID LABEL NEVRA" rows, LABEL being the advisory
  # type or, for security advisories, "<Severity>/Sec." (Critical, Important, Moderate, Low; "Unknown/Sec." without
  # one); `updateinfo info` prints blocks of "Label : value" lines whose "Update ID" and "Updated" give each
  # advisory's date (dnf/cli/commands/updateinfo.py, display_list and display_info).
  timeout 900 "$tool" -q $cache updateinfo list 2>/dev/null | awk 'NF == 3 { print $3 "\t" $1 "\t" $2 }' \
    >"$PP_TMP/advisories.tsv" || true
  timeout 900 "$tool" -q $cache updateinfo info 2>/dev/null |
    awk -F ' : ' '
      { label = $1; sub(/^ +/, "", label) }
      label == "Update ID" { id = $2 }
      label == "Updated" && id != "" { print id "\t" $2; id = "" }' >"$PP_TMP/advisory-dates.tsv" || true
  rpm -qa --qf '%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n' >"$PP_TMP/installed.tsv"
  awk -F '\t' '
    FILENAME == ARGV[1] { updated[$1] = $2; next }
    FILENAME == ARGV[2] {
      # The most severe security advisory decides; without one, the newest advisory date still says when it shipped.
      label = $3; sev = ""; known[$1] = 1
      if (label ~ /\/Sec\.$/) { sec[$1] = 1; sev = label; sub(/\/Sec\.$/, "", sev); if (sev == "Unknown") sev = "" }
      if (sev != "" && rank(sev) > rank(severity[$1])) severity[$1] = sev
      if (updated[$2] > date[$1]) date[$1] = updated[$2]
      next
    }
    FILENAME == ARGV[3] { inst[$1] = $2; next }
    # A blank line after the updates starts the "Obsoleting Packages" list; one before them is only spacing.
    /^$/ { if (listed) stop = 1; next }
    /^Obsoleting/ { stop = 1 }
    stop || NF != 3 { next }
    {
      listed = 1
      name = $1; sub(/\.[^.]+$/, "", name)
      if (name in done) next
      done[name] = 1
      arch = substr($1, length(name) + 2); ver = $2; nv = ver; sub(/^[0-9]+:/, "", nv)
      # dnf writes the epoch into the NEVRA only when it is not 0, as check-update writes the version.
      key = name "-" ver "." arch; if (!(key in known)) key = name "-" nv "." arch
      print name "\t" inst[name] "\t" ver "\t" ((key in sec) ? "security:" : "") $3 "\t\t" severity[key] "\t" date[key]
    }
    function rank(s) { return s == "Critical" ? 4 : s == "Important" ? 3 : s == "Moderate" ? 2 : s == "Low" ? 1 : 0 }
  ' "$PP_TMP/advisory-dates.tsv" "$PP_TMP/advisories.tsv" "$PP_TMP/installed.tsv" FS=' ' "$PP_TMP/check.txt"
}

# Same TSV for zypper, from its update table (v | Repository | Name | Current | Available | Arch).
list_zypper_candidates() {
  local refresh=$1
  timeout 900 zypper --non-interactive $refresh list-updates 2>"$PP_TMP/zypper.err" |
    awk -F '|' '
      function trim(s) { gsub(/^ +| +$/, "", s); return s }
      trim($1) == "v" { print trim($3) "\t" trim($4) "\t" trim($5) "\t" trim($2) "\t" }' ||
    fail 1 "zypper list-updates failed: $(tail -c 1000 "$PP_TMP/zypper.err")"
}

# Section: applicable updates as the package manager reports them; classification comes from the origin only.
section_updates() {
  local name cur cand source size severity released released_iso entry items=()
  case $PM in
    apt) list_apt_candidates >"$PP_TMP/updates.tsv" ;;
    dnf | yum)
      if [ "$SIMULATE" = true ]; then list_rpm_candidates "$PM" -C; else list_rpm_candidates "$PM" ''; fi >"$PP_TMP/updates.tsv"
      ;;
    zypper)
      if [ "$SIMULATE" = true ]; then list_zypper_candidates --no-refresh; else list_zypper_candidates ''; fi >"$PP_TMP/updates.tsv"
      ;;
    *) fail 69 "no supported package manager (apt, dnf, yum, zypper) found" ;;
  esac
  # Unit separator, not tab: IFS whitespace would merge empty fields (no current version, size or severity).
  while IFS=$'\x1f' read -r name cur cand source size severity released; do
    [ -n "$name" ] && [ -n "$cand" ] || continue
    json_str "$name"
    entry="{\"updateId\":$REPLY"
    json_str "$name $cand"
    entry+=",\"title\":$REPLY"
    case $source in
      security:*)
        source=${source#security:}
        entry+=',"classification":"Security"'
        ;;
      *-security* | *Security*) entry+=',"classification":"Security"' ;;
      *) entry+=',"classification":"Other"' ;;
    esac
    # Severity as the package manager states it (dnf/yum advisories); release date as ISO UTC when it parses.
    json_str_or_null "$severity"
    entry+=",\"severity\":$REPLY"
    released_iso=''
    if [ -n "$released" ]; then released_iso=$(date -u -d "$released" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null) || released_iso=''; fi
    json_str_or_null "$released_iso"
    entry+=",\"releaseDate\":$REPLY"
    case $size in '' | *[!0-9]*) ;; *) entry+=",\"sizeBytes\":$size" ;; esac
    json_str_or_null "$cur"
    entry+=",\"currentVersion\":$REPLY"
    json_str "$cand"
    entry+=",\"version\":$REPLY"
    if [ -n "$source" ]; then
      json_str "${source:0:500}"
      entry+=",\"source\":$REPLY"
    fi
    reboot_behavior "$name"
    items+=("$entry,\"rebootBehavior\":\"$REPLY\"}")
  done < <(tr '\t' '\037' <"$PP_TMP/updates.tsv")
  json_array "${items[@]+"${items[@]}"}"
  printf '%s' "$REPLY"
}

# Refreshes the package lists (not in simulate mode: that changes files on the device).
refresh_lists() {
  case $PM in
    apt) timeout 900 apt-get update -q >/dev/null 2>"$PP_TMP/refresh.err" ;;
    dnf | yum) timeout 900 "$PM" -q makecache >/dev/null 2>"$PP_TMP/refresh.err" ;;
    zypper) timeout 900 zypper --non-interactive refresh >/dev/null 2>"$PP_TMP/refresh.err" ;;
    *) return 0 ;;
  esac
}

now_utc
searched=$REPLY
detect_package_manager
PM=$REPLY
if [ -n "$PM" ]; then agent="\"$PM\""; else agent=null; fi

# Unset means the contract's default (false); any other value than true/false is refused and nothing is searched.
SIMULATE=${Simulate-false}
valid=true
case $SIMULATE in
  true | false) ;;
  *)
    reject_parameter Simulate "must be true or false"
    valid=false
    SIMULATE=true
    ;;
esac

updates=null
if [ "$valid" = true ]; then
  if [ "$SIMULATE" = false ]; then
    rc=0
    refresh_lists || rc=$?
    if [ "$rc" -ne 0 ]; then
      add_error updates "package list refresh failed ($rc), listing from the cached lists: $(tail -c 1000 "$PP_TMP/refresh.err" 2>/dev/null || true)" refresh-failed
    fi
  fi
  run_section updates section_updates
  updates=$SECTION
fi

emit_document "{\"searchedAt\":\"$searched\",\"agent\":$agent,\"simulate\":$SIMULATE,\"updates\":$updates}"
