#!/usr/bin/env bash
# vendor.sh fetches the browser libraries the pages use from the npm
# registry, at the exact versions listed below, into web/static/vendor/,
# and records in web/static/vendor/VERSIONS each package's version, its
# tarball's integrity (as the registry publishes it) and the sha256 of
# every file taken from it.
#
#   web/vendor.sh check    re-fetch every package and compare the tarball's
#                          integrity and each file with VERSIONS and with
#                          the files in the tree; exit 1 on any mismatch
#   web/vendor.sh update   fetch and write the files and VERSIONS (after a
#                          version change below); review the diff
#
# Fetching uses npm pack (npm's own client and registry settings); running
# the server needs no Node.js: the files are embedded in the binary.
set -euo pipefail

# Each package: name@version, then the files to take, as
# "path-in-package:path-under-vendor" (a glob in the package path copies
# every match into the vendor folder named).
packages() {
  cat <<'EOF'
htmx.org@2.0.8 package/dist/htmx.min.js:htmx/htmx.min.js package/LICENSE:htmx/LICENSE
katex@0.19.1 package/dist/katex.min.js:katex/katex.min.js package/dist/katex.min.css:katex/katex.min.css package/dist/contrib/auto-render.min.js:katex/contrib/auto-render.min.js package/dist/fonts/*.woff2:katex/fonts/ package/LICENSE:katex/LICENSE
axe-core@4.14.1 package/axe.min.js:axe-core/axe.min.js package/LICENSE:axe-core/LICENSE
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
vendor="$here/static/vendor"
mode=${1:-check}
case "$mode" in
check | update) ;;
*)
  echo "usage: $0 check|update" >&2
  exit 2
  ;;
esac

command -v npm >/dev/null || {
  echo "vendor.sh: npm is needed to fetch the packages (not to run the server)" >&2
  exit 2
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/out"
mkdir -p "$out"
versions="$work/VERSIONS"
{
  echo "# Browser libraries vendored under web/static/vendor/ by web/vendor.sh."
  echo "# package <name> <version> <tarball> <integrity>, then file <sha256> <path> for each file taken."
} >"$versions"

while read -r spec files; do
  [ -n "$spec" ] || continue
  name=${spec%@*}
  version=${spec##*@}
  pkgdir="$work/pkg-$name"
  mkdir -p "$pkgdir"
  meta=$(cd "$pkgdir" && npm pack --silent --json "$spec")
  tgz=$(printf '%s' "$meta" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s)[0].filename))')
  integrity=$(printf '%s' "$meta" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s)[0].integrity))')
  got=$(printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$pkgdir/$tgz" | base64 -w0)")
  if [ "$got" != "$integrity" ]; then
    echo "vendor.sh: $spec: tarball integrity $got, registry says $integrity" >&2
    exit 1
  fi
  echo "package $name $version $tgz $integrity" >>"$versions"
  tar -xzf "$pkgdir/$tgz" -C "$pkgdir"
  for f in $files; do
    src=${f%%:*}
    dst=${f#*:}
    # shellcheck disable=SC2206 # the glob is meant to expand
    matches=("$pkgdir"/$src)
    for m in "${matches[@]}"; do
      [ -f "$m" ] || {
        echo "vendor.sh: $spec has no $src" >&2
        exit 1
      }
      target=$dst
      case "$dst" in */) target="$dst$(basename "$m")" ;; esac
      mkdir -p "$out/$(dirname "$target")"
      cp "$m" "$out/$target"
      echo "file $(sha256sum "$out/$target" | cut -d' ' -f1) $target" >>"$versions"
    done
  done
done < <(packages)

if [ "$mode" = update ]; then
  mkdir -p "$vendor"
  find "$vendor" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  mkdir -p "$vendor"
  cp -R "$out"/. "$vendor"/
  cp "$versions" "$vendor/VERSIONS"
  echo "vendor.sh: updated $vendor"
  exit 0
fi

status=0
if ! diff -u "$vendor/VERSIONS" "$versions"; then
  echo "vendor.sh: VERSIONS differs from what the registry serves" >&2
  status=1
fi
# Every file listed must be in the tree with its sha256, and nothing else.
while read -r kind sum path; do
  [ "$kind" = file ] || continue
  if [ ! -f "$vendor/$path" ]; then
    echo "vendor.sh: missing $path" >&2
    status=1
  elif [ "$(sha256sum "$vendor/$path" | cut -d' ' -f1)" != "$sum" ]; then
    echo "vendor.sh: $path does not match its sha256 in VERSIONS" >&2
    status=1
  fi
done <"$vendor/VERSIONS"
extra=$(cd "$vendor" && find . -type f ! -name VERSIONS | sed 's|^\./||' | sort | comm -23 - <(awk '$1 == "file" {print $3}' "$vendor/VERSIONS" | sort))
if [ -n "$extra" ]; then
  echo "vendor.sh: files not listed in VERSIONS: $extra" >&2
  status=1
fi
if [ "$status" = 0 ]; then
  echo "vendor.sh: every vendored file matches the registry's packages"
fi
exit $status
