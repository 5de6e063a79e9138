#!/usr/bin/env bash
# Runs Moodle's own PHPUnit tests of block_edcissuer (moodle_plugin/tests/*_test.php) and Moodle's privacy
# compliance test for it, inside a throwaway local Moodle whose config.php sets $CFG->phpunit_prefix and
# $CFG->phpunit_dataroot (scripts/moodle-e2e.sh writes both). The plugin must be installed already
# (tests/e2e/install_plugin.sh).
#
# Composer is not available here, so Moodle finds Debian's PHPUnit 9.6 (the version Moodle 4.3-4.5 use)
# through a small vendor/autoload.php shim written into the Moodle code, never into this repository.
# Usage: EDC_E2E_MOODLE_DIR=/work/moodle-sites/4.5.6/moodle tests/e2e/moodle_phpunit.sh
set -euo pipefail
: "${EDC_E2E_MOODLE_DIR:?set EDC_E2E_MOODLE_DIR to the Moodle directory (the one with config.php)}"
code=$EDC_E2E_MOODLE_DIR
[ -f "$code/public/version.php" ] && code=$code/public
debian_phpunit=/usr/share/php/PHPUnit/Autoload.php
[ -f "$debian_phpunit" ] || { echo "no $debian_phpunit: apt-get install phpunit" >&2; exit 1; }
vendor=$code/vendor
if [ ! -e "$vendor/composer" ]; then  # never over a real Composer install
  mkdir -p "$vendor/phpunit/phpunit" "$vendor/bin"
  echo '{"name": "phpunit/phpunit", "description": "shim: Debian PHPUnit 9.6 (tests/e2e/moodle_phpunit.sh)"}' \
    > "$vendor/phpunit/phpunit/composer.json"
  printf '<?php\n// Shim by block_edcissuer tests/e2e/moodle_phpunit.sh: Debian PHPUnit, not Composer.\nrequire_once(%s);\n' \
    "'$debian_phpunit'" > "$vendor/autoload.php"
  # Moodle 4.5+ runs tests by requiring vendor/bin/phpunit (4.3 calls PHPUnit's Command itself).
  printf '<?php\nrequire_once(__DIR__ . "/../autoload.php");\nexit(PHPUnit\\TextUI\\Command::main(false));\n' \
    > "$vendor/bin/phpunit"
fi
cd "$code"
util=admin/tool/phpunit/cli/util.php
# The test site is (re)installed when Moodle says it is missing or out of date (a new plugin version).
if ! php -d max_input_vars=5000 "$util" --diag >/dev/null 2>&1; then
  php -d max_input_vars=5000 "$util" --drop >/dev/null 2>&1 || true
  php -d max_input_vars=5000 "$util" --install
fi
php "$util" --buildcomponentconfigs >/dev/null
status=0
php -d max_input_vars=5000 "$util" --run -c blocks/edcissuer/phpunit.xml --colors=never || status=1
php -d max_input_vars=5000 "$util" --run --colors=never --filter 'block_edcissuer' privacy/tests/privacy/provider_test.php \
  || status=1
exit $status
