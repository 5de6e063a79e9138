<?php
// Moodle-free check of the language packs: en and lt hold the same strings, and every string the code asks for exists.

use PHPUnit\Framework\TestCase;

final class lang_test extends TestCase {
    /**
     * @param string $lang
     * @return array
     */
    private static function strings(string $lang): array {
        if (!defined('MOODLE_INTERNAL')) {
            define('MOODLE_INTERNAL', true);
        }
        $string = [];
        include(dirname(__DIR__, 2) . '/lang/' . $lang . '/block_edcissuer.php');
        return $string;
    }

    public function test_en_and_lt_have_the_same_keys_and_placeholders(): void {
        $en = self::strings('en');
        $lt = self::strings('lt');
        $this->assertSame([], array_diff(array_keys($en), array_keys($lt)), 'missing in lt');
        $this->assertSame([], array_diff(array_keys($lt), array_keys($en)), 'only in lt');
        foreach ($en as $key => $text) {
            preg_match_all('/\{\$a(->\w+)?\}/', $text, $a);
            preg_match_all('/\{\$a(->\w+)?\}/', $lt[$key], $b);
            sort($a[0]);
            sort($b[0]);
            $this->assertSame($a[0], $b[0], "placeholders of $key");
        }
    }

    public function test_every_string_used_in_code_and_templates_exists(): void {
        $en = self::strings('en');
        $root = dirname(__DIR__, 2);
        $files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($root, FilesystemIterator::SKIP_DOTS));
        $used = [];
        foreach ($files as $file) {
            $path = (string)$file;
            if (strpos($path, '/tests/') !== false || !preg_match('/\.(php|mustache)$/', $path)) {
                continue;
            }
            $source = file_get_contents($path);
            preg_match_all("/(?:get_string|moodle_exception)\\('([a-z_:0-9]+)', 'block_edcissuer'/", $source, $m);
            preg_match_all('/\{\{#str\}\} *([a-z_]+), *block_edcissuer/', $source, $t);
            preg_match_all("/'(privacy:metadata:[a-z_:]+)'/", $source, $p);
            $used = array_merge($used, $m[1], $t[1], $p[1]);
        }
        $this->assertGreaterThan(50, count(array_unique($used)));
        foreach (array_unique($used) as $key) {
            $this->assertArrayHasKey($key, $en, "string $key is used but not defined");
        }
        foreach (['queued', 'issued', 'delivered', 'failed', 'revoked', 'parked', 'notissued'] as $status) {
            $this->assertArrayHasKey('status_' . $status, $en);
        }
    }
}
