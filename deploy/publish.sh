#!/usr/bin/env bash
# Builds the release tarball an EC2 proxy instance installs: a self-contained, single-file linux-x64
# build of src/ProxyInstance, its systemd unit and the sample configuration, plus a .sha256 file.
# The build runs in a temporary artifacts directory, so src/*/bin and src/*/obj of a developer's own
# build are never touched.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/publish.sh [--out DIR] [--version V]

Builds egress-proxy-<version>-linux-x64.tar.gz (and its .sha256) into DIR. The tarball's top
directory egress-proxy/ holds ProxyInstance (self-contained, single file), egress-proxy.service,
proxy.sample.json and VERSION.

  --out DIR      where to write the tarball; the default is dist/ at the repository root
  --version V    the version in the file name and in VERSION (letters, digits, '.', '_', '+', '-');
                 the default is `git describe --always --dirty`, or "dev" outside a git checkout
  -h, --help     show this text
EOF
}

# Bad usage exits 2, like the proxy's own command line.
fail_usage() {
  printf 'publish.sh: %s\nRun deploy/publish.sh --help for usage.\n' "$1" >&2
  exit 2
}

# Parameter expansion rather than dirname: the dotnet check below must work on a bare PATH.
script_dir=${BASH_SOURCE[0]%/*}
[ "$script_dir" = "${BASH_SOURCE[0]}" ] && script_dir=.
repo_root=$(cd "$script_dir/.." && pwd -P)

out_dir=$repo_root/dist
version=
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --out=* | --version=*)
      option=${1%%=*}
      value=${1#*=}
      shift
      ;;
    --out | --version)
      option=$1
      # A following option is not a value: "--out --version 1" is a mistake, not a directory.
      if [ $# -lt 2 ] || [ "${2#-}" != "$2" ]; then
        fail_usage "$option needs a value."
      fi
      value=$2
      shift 2
      ;;
    *)
      fail_usage "unknown argument '$1'."
      ;;
  esac
  [ -n "$value" ] || fail_usage "$option needs a value that is not empty."
  case $option in
    --out) out_dir=$value ;;
    --version) version=$value ;;
  esac
done

if [ -n "$version" ] && ! [[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]]; then
  # The version becomes part of a file name.
  fail_usage "version '$version' may hold only letters, digits, '.', '_', '+' and '-', and must start with a letter or digit."
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "publish.sh: dotnet was not found on PATH. Install the .NET 10 SDK and put dotnet on PATH, then run this again." >&2
  exit 1
fi

# Read whole before matching: grep -q stopping early would fail the pipeline under pipefail.
sdks=$(dotnet --list-sdks 2>/dev/null || true)
if ! grep -q '^10\.' <<<"$sdks"; then
  echo "publish.sh: dotnet has no .NET 10 SDK (it lists: $(cut -d' ' -f1 <<<"$sdks" | tr '\n' ' ')). Install the .NET 10 SDK, then run this again." >&2
  exit 1
fi

if [ -z "$version" ]; then
  version=$(git -C "$repo_root" describe --always --dirty 2>/dev/null || true)
  # A tag such as release/1.2 would put a slash in the file name.
  version=${version//[^A-Za-z0-9._+-]/-}
  version=${version:-dev}
fi

mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd -P)

work=$(mktemp -d "${TMPDIR:-/tmp}/egress-proxy-publish.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Without these, an interrupt would end the script without running the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM

echo "publish.sh: building ProxyInstance $version (Release, linux-x64, self-contained, single file)" >&2
# Build output goes to stderr so that stdout carries only the result. --disable-build-servers: no
# compiler or MSBuild server outlives the script (or holds its output open for a caller).
dotnet publish "$repo_root/src/ProxyInstance/ProxyInstance.csproj" \
  --nologo \
  --configuration Release \
  --runtime linux-x64 \
  --self-contained true \
  --artifacts-path "$work/artifacts" \
  --output "$work/publish" \
  --disable-build-servers \
  -p:PublishSingleFile=true \
  -p:DebugType=none \
  -p:DebugSymbols=false \
  -p:InformationalVersion="$version" >&2

# Only the executable is shipped; the publish directory also holds files the proxy does not read
# (YARP's XML docs, a static web assets manifest). A .dll or .so there would mean the build is no
# longer a single file and the executable would not run alone.
if ! [ -x "$work/publish/ProxyInstance" ]; then
  echo "publish.sh: dotnet publish did not produce $work/publish/ProxyInstance." >&2
  exit 1
fi
extra=$(find "$work/publish" -maxdepth 1 \( -name '*.dll' -o -name '*.so' -o -name '*.so.*' \) -printf '%f ')
if [ -n "$extra" ]; then
  echo "publish.sh: the build is not a single file; ProxyInstance needs: $extra" >&2
  exit 1
fi

stage=$work/stage/egress-proxy
mkdir -p "$stage"
install -m 0755 "$work/publish/ProxyInstance" "$stage/ProxyInstance"
install -m 0644 "$repo_root/deploy/systemd/egress-proxy.service" "$stage/egress-proxy.service"
install -m 0644 "$repo_root/deploy/config/proxy.sample.json" "$stage/proxy.sample.json"
printf '%s\n' "$version" >"$stage/VERSION"
chmod 0644 "$stage/VERSION"

tarball=egress-proxy-$version-linux-x64.tar.gz
# Owned by root in the archive, whoever built it; entries in a fixed order.
tar --create --gzip --file "$work/$tarball" --directory "$work/stage" \
  --sort=name --owner=0 --group=0 --numeric-owner egress-proxy
mv -f "$work/$tarball" "$out_dir/$tarball"
(cd "$out_dir" && sha256sum "$tarball" >"$tarball.sha256")

sha256=$(cut -d' ' -f1 "$out_dir/$tarball.sha256")
echo "tarball: $out_dir/$tarball"
echo "sha256:  $sha256"
