#!/usr/bin/env bash
# Makes sure the Debian packages the tests need are installed, once per machine:
#   ensure-debian-packages.sh PACKAGE:COMMAND [PACKAGE:COMMAND ...]
# For each pair whose COMMAND is not on PATH (nor in /usr/bin), installs PACKAGE with
# apt-get install --no-install-recommends (as root, or with password-less sudo), in one
# apt-get call for all missing ones; `apt-get update` only when the package lists do
# not know a package yet, or once more when an install fails on stale lists.
# Prints nothing on stdout; exits 1 with the reason when a package cannot be had.
#
# Used by scripts/ensure-browser.sh (chromium-headless-shell) and by the Makefile's test
# targets for poppler-utils (pdftoppm/pdftotext: billing's PDF render proof).
set -euo pipefail

missing=()
for pair in "$@"; do
  package=${pair%%:*}
  tool=${pair#*:}
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/bin/$tool" ]; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

fail() { echo "ensure-debian-packages: $*; the tests that need ${missing[*]} cannot run" >&2; exit 1; }

command -v apt-get >/dev/null 2>&1 || fail "no apt-get to install ${missing[*]}"
if [ "$(id -u)" = 0 ]; then
  AS_ROOT=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  AS_ROOT=(sudo -n)
else
  fail "installing ${missing[*]} needs root or password-less sudo"
fi

apt() { "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >&2; }
install() { apt install -y -qq --no-install-recommends "${missing[@]}"; }

echo "ensure-debian-packages: installing Debian's ${missing[*]} (once per machine)" >&2
started=$(date +%s)
for package in "${missing[@]}"; do
  if ! apt-cache show "$package" >/dev/null 2>&1; then
    apt update -qq || fail "apt-get update failed"
    break
  fi
done
# Lists that know the package may still be stale (a 404 for an old version): update once.
install || { apt update -qq && install; } || fail "apt-get install ${missing[*]} failed"
echo "ensure-debian-packages: installed in $(($(date +%s) - started)) s" >&2
