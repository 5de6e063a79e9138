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
use block_edcissuer\local\event_payload;

/**
 * Moodle PHPUnit tests of the plugin's events: requested, issued, revoked, in the course's standard log.
 *
 * @package    block_edcissuer
 * @category   test
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \block_edcissuer\event\credential_requested
 * @covers     \block_edcissuer\event\credential_issued
 * @covers     \block_edcissuer\event\credential_revoked
 */
final class event_test extends \advanced_testcase {
    /** @var \stdClass */
    private \stdClass $course;
    /** @var \stdClass */
    private \stdClass $learner;

    protected function setUp(): void {
        $this->resetAfterTest();
        $this->course = $this->getDataGenerator()->create_course();
        $this->learner = $this->getDataGenerator()->create_and_enrol($this->course, 'student');
    }

    public function test_a_teachers_exception_is_logged_as_a_request_in_the_course(): void {
        $teacher = $this->getDataGenerator()->create_and_enrol($this->course, 'editingteacher');
        $this->setUser($teacher);
        $sink = $this->redirectEvents();
        (new issuer())->request(event_payload::TYPE_REQUESTED, (int)$this->course->id, (int)$this->learner->id, time(), null,
            (int)$teacher->id, 'exam taken on paper');
        $events = array_values(array_filter($sink->get_events(), fn($e) => $e instanceof event\credential_requested));
        $this->assertCount(1, $events);
        $event = $events[0];
        $this->assertSame(\context_course::instance($this->course->id)->id, $event->get_context()->id);
        $this->assertEquals($teacher->id, $event->userid);
        $this->assertEquals($this->learner->id, $event->relateduserid);
        $this->assertTrue($event->other['exception']);
        $this->assertStringContainsString('as an exception', $event->get_description());
        $this->assertSame('exam taken on paper', persistent\learner_status::for_learner((int)$this->course->id,
            (int)$this->learner->id)->get('exceptionreason'));
        $task = \core\task\manager::get_adhoc_tasks('\\block_edcissuer\\task\\send_event');
        $event = (new issuer())->build_event(reset($task)->get_custom_data());
        $this->assertSame('exam taken on paper', $event['exception_reason']);
    }

    public function test_storing_logs_issued_once_and_revoking_logs_revoked_once(): void {
        $this->setAdminUser();
        $sink = $this->redirectEvents();
        $store = fn() => store_credential::execute($this->learner->id, $this->course->id, 'urn:credential:1',
            'credential.xml', base64_encode('<xml/>'), 'https://edc.example/credentials/urn:credential:1?t=x', 'edc-xml');
        $store();
        $store();
        $revoke = fn() => set_status::execute($this->learner->id, $this->course->id, 'urn:credential:1', 'revoked',
            'issued in error', time() + 5);
        $revoke();
        $revoke();
        $names = array_map(fn($e) => $e->eventname, array_filter($sink->get_events(),
            fn($e) => strpos($e->eventname, '\\block_edcissuer\\') === 0));
        $this->assertSame(['\\block_edcissuer\\event\\credential_issued', '\\block_edcissuer\\event\\credential_revoked'],
            array_values($names));
        $revoked = array_values(array_filter($sink->get_events(), fn($e) => $e instanceof event\credential_revoked))[0];
        $this->assertSame('issued in error', $revoked->other['reason']);
        $this->assertEquals($this->learner->id, $revoked->relateduserid);
        $this->assertSame(\context_course::instance($this->course->id)->id, $revoked->get_context()->id);
    }

    public function test_the_events_reach_the_standard_log_of_the_course(): void {
        global $DB;
        $this->preventResetByRollback();
        set_config('enabled_stores', 'logstore_standard', 'tool_log');
        set_config('buffersize', 0, 'logstore_standard');
        get_log_manager(true);
        $teacher = $this->getDataGenerator()->create_and_enrol($this->course, 'editingteacher');
        $this->setUser($teacher);
        (new issuer())->request(event_payload::TYPE_REQUESTED, (int)$this->course->id, (int)$this->learner->id, time(),
            time(), (int)$teacher->id);
        $this->setAdminUser();
        store_credential::execute($this->learner->id, $this->course->id, 'urn:credential:2', 'credential.xml',
            base64_encode('<xml/>'), 'https://edc.example/credentials/urn:credential:2?t=x', 'edc-xml');
        set_status::execute($this->learner->id, $this->course->id, 'urn:credential:2', 'revoked', 'withdrawn', time() + 5);
        $logged = $DB->get_fieldset_select('logstore_standard_log', 'eventname',
            'courseid = ? AND component = ? ORDER BY id', [$this->course->id, 'block_edcissuer']);
        $this->assertSame(['\\block_edcissuer\\event\\credential_requested', '\\block_edcissuer\\event\\credential_issued',
            '\\block_edcissuer\\event\\credential_revoked'], $logged);
    }
}
