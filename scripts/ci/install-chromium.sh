#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser test (driven by playwright-core).
# Idempotent: does nothing when chromium is already on the PATH. Needs root or sudo.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "chromium present: $(chromium --version 2>/dev/null || command -v chromium)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-chromium: need root or sudo to apt-get install chromium" >&2; exit 1; }
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium
echo "chromium installed: $(chromium --version)"
