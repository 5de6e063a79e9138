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
use block_edcissuer\output\my_credentials;

/**
 * Moodle PHPUnit tests of the learner's side: revocation and re-issue, sharing and LinkedIn, a deleted course,
 * a deleted user (need a Moodle test site).
 *
 * @package    block_edcissuer
 * @category   test
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \block_edcissuer\output\my_credentials
 * @covers     \block_edcissuer\issuance_store
 * @covers     \block_edcissuer\observer
 */
final class learner_side_test extends \advanced_testcase {
    /** @var \stdClass */
    private \stdClass $course;
    /** @var \stdClass */
    private \stdClass $learner;
    /** @var \block_edcissuer_generator */
    private $generator;

    protected function setUp(): void {
        $this->resetAfterTest();
        $this->course = $this->getDataGenerator()->create_course(['fullname' => 'Data literacy']);
        $this->learner = $this->getDataGenerator()->create_and_enrol($this->course, 'student');
        $this->generator = $this->getDataGenerator()->get_plugin_generator('block_edcissuer');
        $this->generator->create_spec((int)$this->course->id);
    }

    /**
     * My credentials as the learner sees it.
     *
     * @return array the template context
     */
    private function mine(): array {
        global $PAGE;
        $this->setUser($this->learner);
        return (new my_credentials((int)$this->learner->id))->export_for_template($PAGE->get_renderer('core'));
    }

    /**
     * Calls set_status as the sidecar's web service user.
     *
     * @param string $credentialid
     * @param string $status
     * @param string $message
     * @param string $supersededby
     * @return bool applied
     */
    private function sidecar_says(string $credentialid, string $status, string $message = '', string $supersededby = ''): bool {
        static $clock = 0;
        $this->setAdminUser();
        return set_status::execute((int)$this->learner->id, (int)$this->course->id, $credentialid, $status, $message,
            time() + 10 + $clock++, $supersededby)['applied'];
    }

    /**
     * Stores a credential as the sidecar's web service user does.
     *
     * @param string $credentialid
     * @return persistent\credential
     */
    private function sidecar_stores(string $credentialid): persistent\credential {
        $this->setAdminUser();
        $answer = store_credential::execute((int)$this->learner->id, (int)$this->course->id, $credentialid,
            'credential.xml', base64_encode('<xml id="' . $credentialid . '"/>'), 'https://edc.example/c/' . $credentialid,
            'edc-xml');
        return new persistent\credential($answer['recordid']);
    }

    public function test_a_revoked_credential_shows_revoked_with_the_reason_and_cannot_be_shared(): void {
        $old = $this->generator->create_credential(['userid' => $this->learner->id, 'courseid' => $this->course->id]);
        $this->assertTrue($this->sidecar_says($old->get('credentialid'), 'revoked', 'issued in error'));
        [$item] = $this->mine()['credentials'];
        $this->assertSame('revoked', $item['status']);
        $this->assertSame('Revoked', $item['statuslabel']);
        $this->assertSame('issued in error', $item['reason']);
        $this->assertFalse($item['canshare']);
        $this->assertSame('', $item['linkedinurl']);
        // A later "delivered" for the same credential does not bring it back.
        $this->sidecar_says($old->get('credentialid'), 'delivered');
        $this->assertSame('revoked', $this->mine()['credentials'][0]['status']);
    }

    public function test_add_to_wallet_is_offered_for_a_valid_credential_to_holders_of_the_capability(): void {
        $this->generator->create_credential(['userid' => $this->learner->id, 'courseid' => $this->course->id]);
        [$item] = $this->mine()['credentials'];
        $this->assertTrue($item['canwallet']);
        $this->assertStringEndsWith('/blocks/edcissuer/wallet.php', $item['walleturl']);
        $this->assertSame(['learning_credential_sd_jwt', 'open_badge_jwt_vc_json'], [$item['walletsdjwt'], $item['walletob3']]);
        // A site that takes the capability from authenticated users turns wallets off.
        $authenticated = (int)get_config('core', 'defaultuserroleid');
        assign_capability('block/edcissuer:addtowallet', CAP_PROHIBIT, $authenticated, \context_system::instance()->id, true);
        accesslib_clear_all_caches_for_unit_testing();
        $this->assertFalse($this->mine()['credentials'][0]['canwallet']);
    }

    public function test_a_revoked_credential_is_never_offered_to_a_wallet(): void {
        $old = $this->generator->create_credential(['userid' => $this->learner->id, 'courseid' => $this->course->id]);
        $this->assertTrue($this->sidecar_says($old->get('credentialid'), 'revoked', 'issued in error'));
        $this->assertFalse($this->mine()['credentials'][0]['canwallet']);
    }

    public function test_a_reissue_lists_the_new_one_and_marks_the_old_superseded(): void {
        $old = $this->sidecar_stores('urn:credential:old');
        $this->sidecar_says($old->get('credentialid'), 'delivered');
        $new = $this->sidecar_stores('urn:credential:new');
        $this->sidecar_says($new->get('credentialid'), 'delivered');
        $this->sidecar_says($old->get('credentialid'), 'revoked', 'name corrected', $new->get('credentialid'));
        $items = $this->mine()['credentials'];
        $this->assertSame([$new->get('credentialid'), $old->get('credentialid')],
            array_map(fn($i) => persistent\credential::get_record(['id' => $i['id']])->get('credentialid'), $items));
        $this->assertSame(['delivered', 'superseded'], array_column($items, 'status'));
        $this->assertSame($new->get('credentialid'), $items[1]['supersededby']);
        // The teacher page still follows the new credential: the old one's revocation is that one's news.
        $row = (new issuance_store())->course_statuses((int)$this->course->id)[$this->learner->id];
        $this->assertSame('delivered', $row->status);
        $this->assertSame($new->get('credentialid'), $row->credentialid);
    }

    public function test_a_shared_credential_offers_its_public_link_and_linkedin(): void {
        $record = $this->generator->create_credential(['userid' => $this->learner->id, 'courseid' => $this->course->id]);
        $item = $this->mine()['credentials'][0];
        $this->assertFalse($item['shared']);
        $this->assertSame('', $item['linkedinurl']);
        $public = 'https://edc.example/credentials/' . $record->get('credentialid');
        (new issuance_store())->set_sharing($record, true, $public);
        $item = $this->mine()['credentials'][0];
        $this->assertTrue($item['shared']);
        $this->assertSame($public, $item['publicurl']);
        parse_str((string)parse_url($item['linkedinurl'], PHP_URL_QUERY), $query);
        $this->assertSame('Data Literacy for Everyone', $query['name']);
        $this->assertSame('Nemunas University of Technology', $query['organizationName']);
        $this->assertSame($public, $query['certUrl']);
        $this->assertSame($record->get('credentialid'), $query['certId']);
        $this->assertSame(userdate($record->get('timecreated'), '%Y'), $query['issueYear']);
        $this->assertStringContainsString('/blocks/edcissuer/credential.php', $item['pdfurl']);
        $this->assertSame($record->get('verifyurl'), $item['verifyurl']);
    }

    public function test_a_deleted_course_leaves_the_credential_visible_and_its_description_and_statuses_gone(): void {
        global $DB;
        $record = $this->generator->create_credential(['userid' => $this->learner->id, 'courseid' => $this->course->id]);
        $other = $this->getDataGenerator()->create_and_enrol($this->course, 'student');
        $this->generator->create_status(['courseid' => $this->course->id, 'userid' => $other->id, 'status' => 'parked']);
        delete_course($this->course, false);
        $this->assertSame(0, $DB->count_records('block_edcissuer_spec', ['courseid' => $this->course->id]));
        $this->assertSame(0, $DB->count_records('block_edcissuer_status', ['courseid' => $this->course->id]));
        $this->assertTrue(persistent\credential::record_exists($record->get('id')));
        [$item] = $this->mine()['credentials'];
        $this->assertSame('Data Literacy for Everyone', $item['title']);
        $this->assertTrue($item['hasfile']);
        $files = get_file_storage()->get_area_files(\context_user::instance($this->learner->id)->id, 'block_edcissuer',
            'credential', $record->get('id'), 'id', false);
        $this->assertCount(1, $files);
        // A revocation still reaches it, although its course is gone.
        $this->assertTrue($this->sidecar_says($record->get('credentialid'), 'revoked', 'course withdrawn'));
        $this->assertSame('revoked', $this->mine()['credentials'][0]['status']);
    }

    public function test_a_course_deleted_before_its_description_existed_shows_the_course_name(): void {
        global $DB;
        $DB->delete_records('block_edcissuer_spec');
        $this->generator->create_credential(['userid' => $this->learner->id, 'courseid' => $this->course->id]);
        delete_course($this->course, false);
        $this->assertSame('Data literacy', $this->mine()['credentials'][0]['title']);
    }

    public function test_delete_user_removes_the_learners_rows_and_a_teachers_name(): void {
        global $DB;
        $teacher = $this->getDataGenerator()->create_and_enrol($this->course, 'editingteacher');
        $this->generator->create_credential(['userid' => $this->learner->id, 'courseid' => $this->course->id]);
        $other = $this->getDataGenerator()->create_and_enrol($this->course, 'student');
        $this->generator->create_status(['courseid' => $this->course->id, 'userid' => $other->id,
            'requestedby' => $teacher->id, 'exceptionreason' => 'exam on paper']);
        delete_user($this->learner);
        $this->assertSame(0, $DB->count_records('block_edcissuer_cred', ['userid' => $this->learner->id]));
        $this->assertSame(0, $DB->count_records('block_edcissuer_status', ['userid' => $this->learner->id]));
        delete_user($teacher);
        $row = $DB->get_record('block_edcissuer_status', ['userid' => $other->id]);
        $this->assertNull($row->requestedby);
        $this->assertSame('exam on paper', $row->exceptionreason, "the learner's record keeps why it was an exception");
    }
}
