<?php
// Moodle-free PHPUnit bootstrap: loads block_edcissuer\local\* classes from classes/ without Moodle.
// Only the plain PHP classes (request signing, payload building, status mapping, form mapping) are
// tested here; anything that needs Moodle is tested in a real Moodle (see tests/e2e/ at the repo root).

spl_autoload_register(static function (string $class): void {
    $prefix = 'block_edcissuer\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $relative = str_replace('\\', '/', substr($class, strlen($prefix)));
    $file = dirname(__DIR__, 2) . '/classes/' . $relative . '.php';
    if (is_file($file)) {
        require_once($file);
    }
});

/** Repository root (moodle_plugin/..), where tests/vectors lives. */
define('BLOCK_EDCISSUER_REPO_ROOT', dirname(__DIR__, 3));
