#!/usr/bin/env bash
# Prints the path of a headless Chromium for the browser tests, installing Debian's
# chromium-headless-shell first if the machine has none (Playwright's own browser
# download is not used: its CDN is not among the reachable registries).
#
# Found first: $KONTOR_BROWSER, /usr/bin/chromium-headless-shell, /usr/bin/chromium.
# Else: apt-get install --no-install-recommends chromium-headless-shell (as root, or
# with sudo), `apt-get update` only when the package lists do not know it yet or are
# stale. Exits 1 with the reason when no browser can be had.
set -euo pipefail

found() {
  for candidate in "${KONTOR_BROWSER:-}" /usr/bin/chromium-headless-shell /usr/bin/chromium; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if found; then exit 0; fi

fail() { echo "ensure-browser: $*; the browser tests (tests/browser) cannot run" >&2; exit 1; }

command -v apt-get >/dev/null 2>&1 || fail "no Chromium and no apt-get to install one (set KONTOR_BROWSER to a Chromium)"
if [ "$(id -u)" = 0 ]; then
  AS_ROOT=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  AS_ROOT=(sudo -n)
else
  fail "no Chromium, and installing chromium-headless-shell needs root or password-less sudo"
fi

export DEBIAN_FRONTEND=noninteractive
apt() { "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >&2; }
install() { apt install -y -qq --no-install-recommends chromium-headless-shell; }

echo "ensure-browser: installing Debian's chromium-headless-shell (once per machine)" >&2
started=$(date +%s)
if ! apt-cache show chromium-headless-shell >/dev/null 2>&1; then
  apt update -qq || fail "apt-get update failed"
fi
# Lists that know the package may still be stale (a 404 for an old version): update once.
install || { apt update -qq && install; } || fail "apt-get install chromium-headless-shell failed"
echo "ensure-browser: installed in $(($(date +%s) - started)) s" >&2

found || fail "chromium-headless-shell installed but no /usr/bin/chromium-headless-shell"
