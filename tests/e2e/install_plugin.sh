#!/usr/bin/env bash
# Copies moodle_plugin/ into a local Moodle as blocks/edcissuer and runs Moodle's upgrade (installs it the first time).
# Usage: EDC_E2E_MOODLE_DIR=/work/moodle tests/e2e/install_plugin.sh
# A copy, not a symlink: the plugin's pages find Moodle's config.php relative to their own directory.
set -euo pipefail
: "${EDC_E2E_MOODLE_DIR:?set EDC_E2E_MOODLE_DIR to the Moodle code directory}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
target="$EDC_E2E_MOODLE_DIR/blocks/edcissuer"
rm -rf "$target"
cp -r "$repo/moodle_plugin" "$target"
cd "$EDC_E2E_MOODLE_DIR"
php -d max_input_vars=5000 admin/cli/upgrade.php --non-interactive | tail -n 3
php admin/cli/purge_caches.php
