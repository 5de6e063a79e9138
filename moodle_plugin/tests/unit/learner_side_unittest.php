<?php
// Moodle-free tests of what the learner's side computes: LinkedIn's add-to-profile link, the plural forms of
// counted messages (en, lt), and what a credential keeps of its course description when it is stored.

use block_edcissuer\local\linkedin;
use block_edcissuer\local\plural;
use block_edcissuer\local\spec_snapshot;
use PHPUnit\Framework\TestCase;

final class learner_side_test extends TestCase {
    public function test_linkedin_link_carries_name_organisation_date_id_and_public_url(): void {
        $url = linkedin::add_to_profile_url('Duomenų raštingumas visiems', 'Nemuno technologijos universitetas',
            gmmktime(10, 0, 0, 11, 28, 2026), 'urn:credential:6f1c', 'https://edc.example.edu/credentials/urn:credential:6f1c');
        $this->assertStringStartsWith('https://www.linkedin.com/profile/add?', $url);
        parse_str((string)parse_url($url, PHP_URL_QUERY), $query);
        $this->assertSame([
            'startTask' => 'CERTIFICATION_NAME',
            'name' => 'Duomenų raštingumas visiems',
            'organizationName' => 'Nemuno technologijos universitetas',
            'issueYear' => '2026',
            'issueMonth' => '11',
            'certUrl' => 'https://edc.example.edu/credentials/urn:credential:6f1c',
            'certId' => 'urn:credential:6f1c',
        ], $query);
        $this->assertStringContainsString('name=Duomen%C5%B3%20ra%C5%A1tingumas', $url, 'RFC 3986 encoding, no +');
    }

    public function test_linkedin_link_leaves_out_an_unknown_organisation_and_needs_a_public_url(): void {
        $url = linkedin::add_to_profile_url('Data', '', 0, 'urn:credential:1', 'https://x.example/c/1');
        $this->assertStringNotContainsString('organizationName', $url);
        $this->assertStringContainsString('issueYear=1970&issueMonth=1', $url);
        $this->expectException(InvalidArgumentException::class);
        linkedin::add_to_profile_url('Data', 'Org', 0, 'urn:credential:1', '');
    }

    /**
     * @dataProvider counts
     */
    public function test_plural_forms_follow_cldr(string $lang, int $count, string $form): void {
        $this->assertSame($form, plural::form($lang, $count));
    }

    public static function counts(): array {
        return [
            ['en', 0, 'other'], ['en', 1, 'one'], ['en', 2, 'other'], ['en', 11, 'other'], ['en', 21, 'other'],
            ['en_us', 1, 'one'],
            ['lt', 0, 'other'], ['lt', 1, 'one'], ['lt', 2, 'few'], ['lt', 9, 'few'], ['lt', 10, 'other'],
            ['lt', 11, 'other'], ['lt', 12, 'other'], ['lt', 19, 'other'], ['lt', 20, 'other'], ['lt', 21, 'one'],
            ['lt', 22, 'few'], ['lt', 101, 'one'], ['lt', 111, 'other'], ['lt', 112, 'other'], ['lt', 122, 'few'],
            ['de', 1, 'one'], ['de', 3, 'other'],
        ];
    }

    public function test_every_counted_string_has_every_form_in_both_languages(): void {
        foreach (['en', 'lt'] as $lang) {
            $string = [];
            if (!defined('MOODLE_INTERNAL')) {
                define('MOODLE_INTERNAL', true);
            }
            include(dirname(__DIR__, 2) . '/lang/' . $lang . '/block_edcissuer.php');
            foreach (['requested', 'requestedexception', 'issuedcount'] as $key) {
                foreach (plural::FORMS as $form) {
                    $this->assertArrayHasKey($key . '_' . $form, $string, "$lang: {$key}_$form");
                }
            }
            $this->assertArrayNotHasKey('requested', $string, "$lang: the old '(s)' string is gone");
        }
    }

    public function test_a_credential_keeps_the_title_and_awarding_body_primary_language_first(): void {
        $spec = json_decode(file_get_contents(BLOCK_EDCISSUER_REPO_ROOT . '/examples/pilot/courses/data101.json'), true);
        $spec['primary_language'] = 'lt';
        $kept = spec_snapshot::of($spec);
        $this->assertSame(['lt' => 'Duomenų raštingumas visiems', 'en' => 'Data Literacy for Everyone'],
            json_decode($kept['title'], true));
        $this->assertSame('Duomenų raštingumas visiems', spec_snapshot::text_in($kept['title'], 'de'), 'primary first');
        $this->assertSame('Data Literacy for Everyone', spec_snapshot::text_in($kept['title'], 'en'));
        $this->assertSame('Nemunas University of Technology (pilot)', spec_snapshot::text_in($kept['awardingbody'], 'en'));
        $this->assertStringContainsString('raštingumas', $kept['title'], 'stored as UTF-8, not \u escapes');
    }

    public function test_no_description_keeps_nothing_and_reads_as_empty(): void {
        $this->assertSame(['title' => null, 'awardingbody' => null], spec_snapshot::of([]));
        $this->assertSame(['title' => null, 'awardingbody' => null], spec_snapshot::of(['title' => ['en' => '  ']]));
        $this->assertSame('', spec_snapshot::text_in(null, 'en'));
        $this->assertSame('', spec_snapshot::text_in('not json', 'en'));
        // The issuer's name stands in when the description names no separate awarding body.
        $kept = spec_snapshot::of(['issuer' => ['name' => ['en' => 'Uni']]]);
        $this->assertSame('Uni', spec_snapshot::text_in($kept['awardingbody'], 'lt'));
    }
}
