<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

namespace block_edcissuer;

use block_edcissuer\external\set_status;
use block_edcissuer\external\store_credential;

/**
 * Moodle PHPUnit tests of the sidecar's web service functions (need a Moodle test site).
 *
 * @package    block_edcissuer
 * @category   test
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \block_edcissuer\external\store_credential
 * @covers     \block_edcissuer\external\set_status
 */
final class external_test extends \advanced_testcase {
    /** @var \stdClass learner */
    private \stdClass $learner;
    /** @var \stdClass course */
    private \stdClass $course;

    protected function setUp(): void {
        $this->resetAfterTest();
        $this->course = $this->getDataGenerator()->create_course();
        $this->learner = $this->getDataGenerator()->create_and_enrol($this->course, 'student');
        $sidecar = $this->getDataGenerator()->create_user();
        $roleid = create_role('EDC sidecar', 'edcsidecar', '');
        assign_capability('block/edcissuer:storecredential', CAP_ALLOW, $roleid, \context_system::instance()->id);
        role_assign($roleid, $sidecar->id, \context_system::instance()->id);
        $this->setUser($sidecar);
    }

    /**
     * @param string $bytes
     * @param string $id
     * @return array
     */
    private function store(string $bytes, string $id = 'urn:credential:1'): array {
        $result = store_credential::execute($this->learner->id, $this->course->id, $id, 'credential.xml',
            base64_encode($bytes), 'https://edc.example/verify/1');
        return \core_external\external_api::clean_returnvalue(store_credential::execute_returns(), $result);
    }

    public function test_store_is_idempotent_and_lands_in_the_learners_file_area(): void {
        $first = $this->store('<xml/>');
        $this->assertSame('stored', $first['result']);
        $again = $this->store('<xml/>');
        $this->assertSame('unchanged', $again['result']);
        $this->assertSame($first['recordid'], $again['recordid']);
        $files = get_file_storage()->get_area_files(\context_user::instance($this->learner->id)->id, 'block_edcissuer',
            'credential', $first['recordid'], 'id', false);
        $this->assertCount(1, $files);
        $this->assertSame('<xml/>', reset($files)->get_content());
        $row = (new issuance_store())->course_statuses($this->course->id)[$this->learner->id];
        $this->assertSame('issued', $row->status);
    }

    public function test_deliveredat_stores_and_marks_delivered_in_one_call(): void {
        $call = fn(int $at) => \core_external\external_api::clean_returnvalue(store_credential::execute_returns(),
            store_credential::execute($this->learner->id, $this->course->id, 'urn:credential:9', 'credential.xml',
                base64_encode('<xml/>'), 'https://edc.example/verify/9', 'edc-xml', $at));
        $first = $call(time() + 5);
        $this->assertSame('stored', $first['result']);
        $this->assertTrue($first['delivered']);
        $row = (new issuance_store())->course_statuses($this->course->id)[$this->learner->id];
        $this->assertSame('delivered', $row->status);
        $credential = \block_edcissuer\persistent\credential::get_record(['credentialid' => 'urn:credential:9']);
        $this->assertSame('delivered', $credential->get('status'));
        // A repeat after a crash stores nothing and changes nothing: the same status is not newer news.
        $again = $call(time() + 5);
        $this->assertSame('unchanged', $again['result']);
        $this->assertSame(1, $GLOBALS['DB']->count_records('block_edcissuer_cred'));
    }

    public function test_a_stale_deliveredat_leaves_the_course_row_as_set_status_would_and_negative_is_refused(): void {
        store_credential::execute($this->learner->id, $this->course->id, 'urn:credential:8', 'credential.xml',
            base64_encode('<xml/>'), 'https://edc.example/verify/8', 'edc-xml', 1);
        // The course row keeps its newer news (issued, now); the credential's own status takes delivered.
        $this->assertSame('issued', (new issuance_store())->course_statuses($this->course->id)[$this->learner->id]->status);
        $credential = \block_edcissuer\persistent\credential::get_record(['credentialid' => 'urn:credential:8']);
        $this->assertSame('delivered', $credential->get('status'));
        $this->expectExceptionMessageMatches('/deliveredat/');
        store_credential::execute($this->learner->id, $this->course->id, 'urn:credential:7', 'credential.xml',
            base64_encode('<xml/>'), 'https://edc.example/verify/7', 'edc-xml', -1);
    }

    public function test_the_true_format_is_stored_and_served(): void {
        $json = store_credential::execute($this->learner->id, $this->course->id, 'urn:credential:3', 'credential-3.json',
            base64_encode('{"payload":"{}"}'), 'https://edc.example/verify/3', 'elm3-jsonld');
        $record = $GLOBALS['DB']->get_record('block_edcissuer_cred', ['id' => $json['recordid']]);
        $this->assertSame('elm3-jsonld', $record->format);
        $files = get_file_storage()->get_area_files(\context_user::instance($this->learner->id)->id, 'block_edcissuer',
            'credential', $json['recordid'], 'id', false);
        $this->assertSame('application/ld+json', reset($files)->get_mimetype());
        // An older sidecar sends no format: the file name's extension says it (never "EDC XML" for JSON).
        $old = store_credential::execute($this->learner->id, $this->course->id, 'urn:credential:4', 'credential-4.json',
            base64_encode('{}'), 'https://edc.example/verify/4');
        $this->assertSame('elm3-jsonld', $GLOBALS['DB']->get_field('block_edcissuer_cred', 'format', ['id' => $old['recordid']]));
        $this->expectExceptionMessageMatches('/does not match the file name/');
        store_credential::execute($this->learner->id, $this->course->id, 'urn:credential:5', 'credential-5.xml',
            base64_encode('<xml/>'), 'https://edc.example/verify/5', 'elm3-jsonld');
    }

    public function test_other_bytes_under_a_known_id_are_refused(): void {
        $this->store('<xml/>');
        $this->expectExceptionMessageMatches('/already stored with different content/');
        $this->store('<xml>changed</xml>');
    }

    public function test_bad_base64_is_refused(): void {
        $this->expectException(\moodle_exception::class);
        store_credential::execute($this->learner->id, $this->course->id, 'urn:credential:2', 'c.xml', '%%%',
            'https://edc.example/verify/2');
    }

    public function test_status_keeps_the_newest(): void {
        $call = fn(string $status, int $time) => set_status::execute($this->learner->id, $this->course->id, '',
            $status, '', $time)['applied'];
        $this->assertTrue($call('queued', 100));
        $this->assertTrue($call('delivered', 200));
        $this->assertFalse($call('failed', 150));
        $this->assertSame('delivered', (new issuance_store())->course_statuses($this->course->id)[$this->learner->id]->status);
    }

    public function test_unknown_status_is_refused(): void {
        $this->expectExceptionMessageMatches('/Unknown status/');
        set_status::execute($this->learner->id, $this->course->id, '', 'archived', '', 1);
    }

    public function test_without_the_capability_nothing_is_stored(): void {
        $this->setUser($this->getDataGenerator()->create_user());
        try {
            $this->store('<xml/>');
            $this->fail('stored without block/edcissuer:storecredential');
        } catch (\required_capability_exception $e) {
            $this->assertSame(0, $GLOBALS['DB']->count_records('block_edcissuer_cred'));
        }
    }
}
