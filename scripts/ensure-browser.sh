#!/usr/bin/env bash
# Prints the path of a headless Chromium for the browser tests, installing Debian's
# chromium-headless-shell first if the machine has none (Playwright's own browser
# download is not used: its CDN is not among the reachable registries).
#
# Found first: $KONTOR_BROWSER, /usr/bin/chromium-headless-shell, /usr/bin/chromium.
# Else: Debian's chromium-headless-shell by scripts/ensure-debian-packages.sh (apt-get
# --no-install-recommends as root or with sudo, `apt-get update` only when the package
# lists do not know it yet or are stale). Exits 1 with the reason when no browser can be had.
set -euo pipefail

found() {
  for candidate in "${KONTOR_BROWSER:-}" /usr/bin/chromium-headless-shell /usr/bin/chromium; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if found; then exit 0; fi

fail() { echo "ensure-browser: $*; the browser tests (tests/browser) cannot run" >&2; exit 1; }

"$(dirname "$0")/ensure-debian-packages.sh" chromium-headless-shell:chromium-headless-shell \
  || fail "no Chromium could be installed (set KONTOR_BROWSER to a Chromium)"

found || fail "chromium-headless-shell installed but no /usr/bin/chromium-headless-shell"
