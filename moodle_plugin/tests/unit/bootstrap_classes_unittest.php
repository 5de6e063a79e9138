<?php
// Moodle-free check that the plugin's markup uses only Bootstrap classes that Bootstrap 4.6 (Moodle 4.3-4.5)
// and Bootstrap 5.3 (Moodle 5.x) both draw, so nothing depends on 5.x's deprecated Bootstrap 4 compatibility
// layer (removed in Moodle 6.0), and nothing is Bootstrap 5 only (unstyled on 4.x).

use PHPUnit\Framework\TestCase;

final class bootstrap_classes_test extends TestCase {
    /** Bootstrap 4 names that Bootstrap 5 renamed or dropped (Moodle 5.0's compatibility layer draws them). */
    private const BOOTSTRAP4_ONLY = '/^(m[lr]|p[lr])-(sm-|md-|lg-|xl-)?(auto|[0-5])$|^sr-only(-focusable)?$|^font-weight-|'
        . '^font-italic$|^badge-(primary|secondary|success|danger|warning|info|light|dark|pill)$|^text-(left|right)$|'
        . '^float-(left|right)$|^(custom-(select|control|checkbox|radio|switch|file|range)|form-group|form-row|'
        . 'form-inline|input-group-(append|prepend)|btn-block|no-gutters|media|media-body|close|'
        . 'dropdown-menu-(left|right)|text-monospace|rounded-(left|right)|border-(left|right)|embed-responsive)$/';
    /** Bootstrap 5 names that Bootstrap 4 lacks. */
    private const BOOTSTRAP5_ONLY = '/^(m[se]|p[se])-(sm-|md-|lg-|xl-)?(auto|[0-5])$|^visually-hidden(-focusable)?$|'
        . '^fw-|^fst-|^text-bg-|^text-(start|end)$|^float-(start|end)$|^(form-select|form-label|form-check-input|'
        . 'btn-close|rounded-(start|end)|border-(start|end)|g[xy]?-[0-5]|gap-[0-5]|fs-[1-6]|lh-[a-z0-9]+|'
        . 'text-body-(secondary|tertiary)|link-underline.*)$/';

    /**
     * @return array every class name in the plugin's templates and PHP (html_writer, attributes), with its file
     */
    private static function classes(): array {
        $root = dirname(__DIR__, 2);
        $found = [];
        $files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($root, FilesystemIterator::SKIP_DOTS));
        foreach ($files as $file) {
            $path = (string)$file;
            if (strpos($path, '/tests/') !== false || !preg_match('/\.(php|mustache)$/', $path)) {
                continue;
            }
            $source = file_get_contents($path);
            preg_match_all('/class="([^"]*)"/', $source, $a);
            preg_match_all("/'class' => '([^']*)'/", $source, $b);
            preg_match_all("/return '((?:bg|text)-[^']*)'/", $source, $d);
            foreach (array_merge($a[1], $b[1], $d[1]) as $list) {
                // Mustache tags in a class attribute ({{badgeclass}}, {{#x}}...{{/x}}) are checked where they are made.
                foreach (preg_split('/\s+/', trim(preg_replace('/\{\{[^}]*\}\}/', ' ', $list))) as $name) {
                    if ($name !== '') {
                        $found[] = [$name, substr($path, strlen($root) + 1)];
                    }
                }
            }
        }
        return $found;
    }

    public function test_no_class_needs_the_bootstrap4_compatibility_layer_or_bootstrap5(): void {
        $classes = self::classes();
        $this->assertGreaterThan(30, count($classes));
        foreach ($classes as [$name, $file]) {
            $this->assertDoesNotMatchRegularExpression(self::BOOTSTRAP4_ONLY, $name, "$file: $name is Bootstrap 4 only");
            $this->assertDoesNotMatchRegularExpression(self::BOOTSTRAP5_ONLY, $name, "$file: $name is Bootstrap 5 only");
        }
    }

    public function test_the_check_catches_both_kinds(): void {
        foreach (['mr-1', 'ml-2', 'sr-only', 'font-weight-bold', 'badge-success', 'text-right', 'form-group'] as $old) {
            $this->assertMatchesRegularExpression(self::BOOTSTRAP4_ONLY, $old);
        }
        foreach (['me-1', 'ms-2', 'visually-hidden', 'fw-bold', 'text-bg-success', 'text-end', 'form-select'] as $new) {
            $this->assertMatchesRegularExpression(self::BOOTSTRAP5_ONLY, $new);
        }
        foreach (['badge', 'bg-success', 'text-white', 'mb-2', 'small', 'text-muted', 'btn-sm', 'd-flex', 'm-1',
                'accesshide'] as $both) {
            $this->assertDoesNotMatchRegularExpression(self::BOOTSTRAP4_ONLY, $both);
            $this->assertDoesNotMatchRegularExpression(self::BOOTSTRAP5_ONLY, $both);
        }
    }
}
