#!/usr/bin/env bash
# Renews the Public Suffix List the proxy checks domain patterns against
# (src/ProxyInstance/Configuration/public_suffix_list.dat) and records its date and SHA-256 next to it
# (public_suffix_list.version). Run by a person, with internet access, from time to time; commit both
# files, and run the proxy's tests, as a newer list may refuse a pattern an older one accepted.
# Tests and CI never run it: the build embeds the committed copy.
set -euo pipefail

url=https://publicsuffix.org/list/public_suffix_list.dat

usage() {
  cat <<USAGE
Usage: deploy/update-public-suffix-list.sh [--from FILE] [--date YYYY-MM-DD]

Downloads $url
(or takes FILE, a copy already downloaded), checks that it looks like the list, and writes it and
its date to src/ProxyInstance/Configuration/.

  --from FILE   use FILE instead of downloading
  --date DATE   the date of the list (YYYY-MM-DD); the default is today (UTC), right for a download
  -h, --help    show this text
USAGE
}

fail_usage() {
  printf 'update-public-suffix-list.sh: %s\nRun deploy/update-public-suffix-list.sh --help for usage.\n' "$1" >&2
  exit 2
}

from=
date=$(date -u +%Y-%m-%d)
while [ $# -gt 0 ]; do
  case $1 in
    --from) [ $# -ge 2 ] || fail_usage "--from needs a file"; from=$2; shift 2 ;;
    --date) [ $# -ge 2 ] || fail_usage "--date needs a date"; date=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) fail_usage "unknown argument '$1'" ;;
  esac
done

[[ $date =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || fail_usage "'$date' is not a date; write it as YYYY-MM-DD"

script_dir=${BASH_SOURCE[0]%/*}
[ "$script_dir" != "${BASH_SOURCE[0]}" ] || script_dir=.
target_dir=$script_dir/../src/ProxyInstance/Configuration
list=$target_dir/public_suffix_list.dat
version=$target_dir/public_suffix_list.version

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if [ -n "$from" ]; then
  cp -- "$from" "$tmp"
else
  curl --fail --silent --show-error --location --max-time 60 --output "$tmp" "$url"
fi

# A captive portal or an error page must not replace the list.
for marker in '===BEGIN ICANN DOMAINS===' '===END ICANN DOMAINS===' '===BEGIN PRIVATE DOMAINS===' '===END PRIVATE DOMAINS==='; do
  if ! grep -qF -- "$marker" "$tmp"; then
    printf 'update-public-suffix-list.sh: the download has no "%s" line; it is not the Public Suffix List, nothing was changed\n' "$marker" >&2
    exit 1
  fi
done

rules=$(grep -cv -e '^[[:space:]]*//' -e '^[[:space:]]*$' "$tmp" || true)
if [ "$rules" -lt 5000 ]; then
  printf 'update-public-suffix-list.sh: the download has only %s rules; expected thousands, nothing was changed\n' "$rules" >&2
  exit 1
fi

mv -- "$tmp" "$list"
trap - EXIT
sha=$(sha256sum -- "$list" | cut -d' ' -f1)
{
  printf 'date=%s\n' "$date"
  printf 'source=%s\n' "$url"
  printf 'sha256=%s\n' "$sha"
} > "$version"
printf 'Public Suffix List updated: %s rules, %s\n' "$rules" "$(head -n1 "$version")"
