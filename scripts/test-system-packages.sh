#!/usr/bin/env bash
# The Debian packages the test suite drives as real peers, installed when missing:
#   chromium  the panel's browser tests (Playwright drives Debian's build, never its own)
#   nodejs    the panel's segment-counter unit test runs our counter.js under Node
#   kannel    the SMPP server's interoperability test (bearerbox binds to us)
#   faketime  the suite's clock guard (date-sensitive tests re-run a year ahead)
# `make test` calls this first, so a fresh clone needs nothing else. Without root (or apt),
# it says what is missing and the tests that need it skip — except under CI=true, where
# they fail.
set -euo pipefail
declare -A needs=([chromium]=chromium [node]=nodejs [faketime]=faketime)
missing=()
for cmd in "${!needs[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${needs[$cmd]}")
done
command -v bearerbox >/dev/null 2>&1 || [ -x /usr/sbin/bearerbox ] || missing+=(kannel)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test peers: ${missing[*]}"
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "note: tests that need ${missing[*]} will skip (install: apt-get install ${missing[*]})" >&2
fi
