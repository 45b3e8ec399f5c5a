#!/usr/bin/env bash
# Runs .ci/install-deps --sources-only, with every package reported missing, on a machine whose apt
# sources are those of one scenario, then checks that apt-get update succeeds and that nvidia-cuda-toolkit
# (where ptxas comes from, the one non-free package it needs) has a candidate from non-free. Everything happens in a private mount namespace: /etc/apt, apt's lists and its cache
# are copies bind-mounted over the real ones, so the machine's own apt setup is never touched.
#   install-deps-scenario.sh REPO SCENARIO       (as root; SCENARIO: see the case below)
# Prints what install-deps wrote, then "SCENARIO OK" or a failure and exit 1.
set -euo pipefail
repo=$1 scenario=$2
if [[ -z "${IVAE_IN_NAMESPACE:-}" ]]; then
  exec env IVAE_IN_NAMESPACE=1 unshare --mount --propagation private bash "$0" "$@"
fi

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt" "$work/lists" "$work/cache"
cp -a /etc/apt/. "$work/apt/"
rm -f "$work/apt/sources.list" "$work/apt/sources.list.d/"*
cp -a /var/lib/apt/lists/. "$work/lists/" 2>/dev/null || true   # a warm start: apt fetches only what changed
rm -f "$work/lists/lock"; mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
chmod 755 "$work"

stock="$repo/Tests/Setup/debian12.sources"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
case "$scenario" in
  deb822-stock)           # Debian 12 as installed: deb822 only, no sources.list
    cp "$stock" "$work/apt/sources.list.d/debian.sources" ;;
  deb822-firmware-only)   # the installer's "non-free-firmware" is another component than non-free
    sed 's/^Components: main$/Components: main non-free-firmware/' "$stock" > "$work/apt/sources.list.d/debian.sources" ;;
  deb822-nonfree-enabled) # already enabled: nothing to add
    sed 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$stock" > "$work/apt/sources.list.d/debian.sources" ;;
  classic)                # a classic one-line sources.list, keys from trusted.gpg.d
    printf 'deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' > "$work/apt/sources.list" ;;
  classic-signed-by)      # a one-line entry with its own signed-by option
    printf 'deb [signed-by=%s] http://deb.debian.org/debian bookworm main\n' "$keyring" > "$work/apt/sources.list" ;;
  *) echo "unknown scenario '$scenario'" >&2; exit 2 ;;
esac

mount --bind "$work/apt" /etc/apt
mount --bind "$work/lists" /var/lib/apt/lists
mount --bind "$work/cache" /var/cache/apt

before=$(ls /etc/apt/sources.list.d/)
IVAE_ASSUME_MISSING=1 bash "$repo/.ci/install-deps" --sources-only
added=$(comm -13 <(echo "$before") <(ls /etc/apt/sources.list.d/))
for f in $added; do echo "--- install-deps wrote $f:"; cat "/etc/apt/sources.list.d/$f"; done

# A second run finds non-free enabled and adds nothing (idempotent).
IVAE_ASSUME_MISSING=1 bash "$repo/.ci/install-deps" --sources-only >/dev/null
[[ "$(ls /etc/apt/sources.list.d/ | wc -l)" == "$(( $(echo "$before" | grep -c . ) + $(echo "$added" | grep -c .) ))" ]] \
  || { echo "FAIL: a second run wrote another source file"; ls /etc/apt/sources.list.d/; exit 1; }

if [[ $scenario == deb822-nonfree-enabled && -n "$added" ]]; then
  echo "FAIL: non-free was already enabled, yet install-deps wrote $added"; exit 1
fi
update=$(apt-get update 2>&1) || { echo "$update"; echo "FAIL: apt-get update failed"; exit 1; }
if grep -E '^(E|W):' <<<"$update"; then echo "FAIL: apt-get update warned"; exit 1; fi
policy=$(apt-cache policy nvidia-cuda-toolkit)
grep -q 'bookworm/non-free' <<<"$policy" || { echo "$policy"; echo "FAIL: no candidate from non-free"; exit 1; }
echo "$scenario OK"
