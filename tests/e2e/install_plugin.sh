#!/usr/bin/env bash
# Copies moodle_plugin/ into a local Moodle as blocks/edcissuer and runs Moodle's upgrade (installs it the first time).
# Usage: EDC_E2E_MOODLE_DIR=/work/moodle tests/e2e/install_plugin.sh
# EDC_E2E_MOODLE_DIR is the directory holding config.php. Moodle 5.1+ keeps its code (blocks/, admin/cli/)
# under public/; earlier versions at the root: both are found here.
# A copy, not a symlink: the plugin's pages find Moodle's config.php relative to their own directory.
set -euo pipefail
: "${EDC_E2E_MOODLE_DIR:?set EDC_E2E_MOODLE_DIR to the Moodle directory (the one with config.php)}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
code=$EDC_E2E_MOODLE_DIR
[ -f "$code/public/version.php" ] && code=$code/public
target="$code/blocks/edcissuer"
rm -rf "$target"
cp -r "$repo/moodle_plugin" "$target"
php -d max_input_vars=5000 "$code/admin/cli/upgrade.php" --non-interactive | tail -n 3
php "$code/admin/cli/purge_caches.php"
