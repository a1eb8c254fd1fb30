#!/usr/bin/env bash
# Make sure a headless Chromium is available for the browser tests (Debian's package; Playwright
# drives it, it downloads no browser of its own). Installs it with apt-get when run as root.
set -euo pipefail
for exe in chromium chromium-browser google-chrome; do
  if command -v "$exe" >/dev/null 2>&1; then exit 0; fi
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure_chromium: installing Debian's chromium for the browser tests" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "ensure_chromium: no chromium found; install it (e.g. 'sudo apt-get install chromium')" \
       "or the browser tests will fail" >&2
fi
