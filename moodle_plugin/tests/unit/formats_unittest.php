<?php
// Moodle-free tests of block_edcissuer\local\formats: one vocabulary with the sidecar, old names read as aliases.

use block_edcissuer\local\formats;
use PHPUnit\Framework\TestCase;

final class formats_unittest extends TestCase {
    /**
     * @return array lang strings of the plugin in a language
     */
    private static function strings(string $lang): array {
        if (!defined('MOODLE_INTERNAL')) {
            define('MOODLE_INTERNAL', true); // The lang files stop a request that does not come through Moodle.
        }
        $string = [];
        require(dirname(__DIR__, 2) . "/lang/$lang/block_edcissuer.php");
        return $string;
    }

    public function test_the_names_are_the_sidecars(): void {
        $schema = json_decode(file_get_contents(BLOCK_EDCISSUER_REPO_ROOT . '/schemas/course-credential.schema.json'), true);
        $sidecar = $schema['$defs']['format_name']['enum'] ?? $schema['properties']['format']['enum'];
        $this->assertSame($sidecar, formats::NAMES);
        $this->assertSame(formats::NAMES, array_keys(formats::MIME_TYPES));
        $this->assertSame(formats::NAMES, array_keys(formats::EXTENSIONS));
    }

    public function test_old_names_are_aliases_and_nothing_else_is_a_format(): void {
        $this->assertSame('edc-xml', formats::canonical('edc-xml-v1'));
        $this->assertSame('elm3-jsonld', formats::canonical('elm-v3-jsonld'));
        $this->assertSame('elm3-jsonld', formats::canonical(' ELM3-JSONLD '));
        $this->assertNull(formats::canonical('pdf'));
        $this->assertNull(formats::canonical(''));
    }

    public function test_a_stored_file_gets_its_true_format(): void {
        $this->assertSame('elm3-jsonld', formats::of_file('elm3-jsonld', 'credential-1.json'));
        $this->assertSame('edc-xml', formats::of_file('edc-xml-v1', 'credential-1.xml'));
        // An older sidecar sends no format: the extension says it, so JSON is never labelled EDC XML.
        $this->assertSame('elm3-jsonld', formats::of_file('', 'credential-1.json'));
        $this->assertSame('edc-xml', formats::of_file('', 'credential-1.XML'));
        // A format that contradicts the file name, or is none of ours, is refused.
        $this->assertNull(formats::of_file('elm3-jsonld', 'credential-1.xml'));
        $this->assertNull(formats::of_file('edc-xml', 'credential-1.json'));
        $this->assertNull(formats::of_file('pdf', 'credential-1.xml'));
        $this->assertNull(formats::of_file('', 'credential-1.pdf'));
    }

    public function test_downloads_carry_the_formats_mime_type(): void {
        $this->assertSame('application/ld+json', formats::mime_type('elm3-jsonld'));
        $this->assertSame('application/ld+json', formats::mime_type('elm-v3-jsonld'));
        $this->assertSame('application/xml', formats::mime_type('edc-xml-v1'));
        $this->assertSame('application/octet-stream', formats::mime_type('pdf'));
    }

    public function test_every_format_and_old_record_has_a_label_in_both_languages(): void {
        foreach (['en', 'lt'] as $lang) {
            $strings = self::strings($lang);
            foreach (array_merge(formats::NAMES, array_keys(formats::ALIASES), ['pdf']) as $name) {
                $this->assertArrayHasKey(formats::label_key($name), $strings, "$lang: label of $name");
            }
        }
        $this->assertSame('ELM v3 JSON-LD', self::strings('en')[formats::label_key('elm-v3-jsonld')]);
    }

    public function test_a_course_may_ask_for_every_format(): void {
        $this->assertSame(array_merge(formats::NAMES, ['both']), formats::choices());
        $this->assertSame(['edc-xml', 'elm3-jsonld'], formats::to_spec('both'));
        $this->assertSame('elm3-jsonld', formats::to_spec('elm3-jsonld'));
        $this->assertSame('both', formats::to_form(['edc-xml', 'elm3-jsonld']));
        $this->assertSame('edc-xml', formats::to_form(['edc-xml']));
        $this->assertSame('elm3-jsonld', formats::to_form('elm3-jsonld'));
        $both = ['edc-xml', 'elm3-jsonld'];
        $this->assertSame($both, \block_edcissuer\local\spec_mapper::to_spec(['format' => 'both'])['format']);
        $this->assertSame('both', \block_edcissuer\local\spec_mapper::to_form(['format' => $both])['format']);
        foreach (['en', 'lt'] as $lang) {
            $this->assertArrayHasKey('format_both', self::strings($lang));
        }
    }
}
