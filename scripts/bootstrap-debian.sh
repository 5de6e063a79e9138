#!/usr/bin/env bash
# Installs, idempotently, what the sidecar and its tests need on a Debian machine:
# system packages (only those missing) and the Python venv at .venv.
# Usage: scripts/bootstrap-debian.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-run}

run_pkgs=(softhsm2 xmlsec1 openssl p11-kit fonts-dejavu-core python3 python3-venv python3-dev)
test_pkgs=(php-cli php-xml php-mbstring php-curl phpunit postgresql chromium poppler-utils)
pkgs=("${run_pkgs[@]}")
[ "$purpose" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The interpreter: the first one whose email package is safe from CVE-2024-6923 (header injection through
# encoded words; see scripts/python-safe-email.py). Debian 12's own python3.11 carries the fix; the
# pyenv 3.11.7 on PATH here does not. A venv made from an unsafe interpreter is made again.
python=""
for candidate in ${PYTHON:-} /usr/bin/python3.11 /usr/bin/python3 python3.13 python3; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  if "$candidate" scripts/python-safe-email.py >/dev/null 2>&1; then python=$candidate; break; fi
done
if [ -z "$python" ]; then
  echo "bootstrap: no Python with the CVE-2024-6923 fix found (Debian 12's python3.11 has it; set PYTHON=...)" >&2
  exit 1
fi
if [ -x .venv/bin/python ] && ! .venv/bin/python scripts/python-safe-email.py >/dev/null 2>&1; then
  echo "bootstrap: .venv was made from an interpreter vulnerable to CVE-2024-6923; making it again with $python"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-$purpose
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  if [ "$purpose" = test ]; then
    .venv/bin/pip install -q -e '.[test]'
  else
    .venv/bin/pip install -q -e .
  fi
  touch "$stamp"
fi
