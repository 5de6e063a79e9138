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

use block_edcissuer\privacy\provider;
use core_privacy\local\request\approved_contextlist;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\userlist;
use core_privacy\local\request\writer;

/**
 * Moodle PHPUnit tests of the privacy provider: a learner's record, and a teacher's requests (requestedby and
 * the reason of an exception) found in the course, exported and forgotten.
 *
 * @package    block_edcissuer
 * @category   test
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \block_edcissuer\privacy\provider
 */
final class privacy_test extends \core_privacy\tests\provider_testcase {
    /** @var \stdClass */
    private \stdClass $course;
    /** @var \stdClass */
    private \stdClass $learner;
    /** @var \stdClass */
    private \stdClass $teacher;

    protected function setUp(): void {
        $this->resetAfterTest();
        $this->course = $this->getDataGenerator()->create_course();
        $this->learner = $this->getDataGenerator()->create_and_enrol($this->course, 'student');
        $this->teacher = $this->getDataGenerator()->create_and_enrol($this->course, 'editingteacher');
        $generator = $this->getDataGenerator()->get_plugin_generator('block_edcissuer');
        $generator->create_spec((int)$this->course->id);
        $generator->create_status(['courseid' => $this->course->id, 'userid' => $this->learner->id,
            'requestedby' => $this->teacher->id, 'exceptionreason' => 'exam on paper']);
        $generator->create_credential(['userid' => $this->learner->id, 'courseid' => $this->course->id]);
    }

    public function test_a_teachers_requests_are_found_in_the_course(): void {
        $contexts = provider::get_contexts_for_userid((int)$this->teacher->id)->get_contextids();
        $this->assertEquals([\context_course::instance($this->course->id)->id], array_values($contexts));
        $userlist = new userlist(\context_course::instance($this->course->id), 'block_edcissuer');
        provider::get_users_in_context($userlist);
        $this->assertEquals([$this->teacher->id], $userlist->get_userids());
        $learnercontexts = provider::get_contexts_for_userid((int)$this->learner->id)->get_contextids();
        $this->assertEquals([\context_user::instance($this->learner->id)->id], array_values($learnercontexts));
    }

    public function test_a_teachers_export_holds_their_requests(): void {
        $context = \context_course::instance($this->course->id);
        $this->export_context_data_for_user((int)$this->teacher->id, $context, 'block_edcissuer');
        $data = writer::with_context($context)->get_data([get_string('pluginname', 'block_edcissuer')]);
        $this->assertCount(1, $data->requests);
        $this->assertEquals($this->learner->id, $data->requests[0]->learner);
        $this->assertSame('exam on paper', $data->requests[0]->exceptionreason);
    }

    public function test_deleting_a_teachers_data_leaves_no_id_of_theirs(): void {
        global $DB;
        $context = \context_course::instance($this->course->id);
        provider::delete_data_for_user(new approved_contextlist($this->teacher, 'block_edcissuer', [$context->id]));
        $this->assertSame(0, $DB->count_records('block_edcissuer_status', ['requestedby' => $this->teacher->id]));
        $this->assertSame(1, $DB->count_records('block_edcissuer_status', ['userid' => $this->learner->id]),
            "the learner's request stays");
        $this->assertSame(1, $DB->count_records('block_edcissuer_cred', ['userid' => $this->learner->id]));
    }

    public function test_deleting_teachers_of_a_course_by_userlist(): void {
        global $DB;
        $context = \context_course::instance($this->course->id);
        provider::delete_data_for_users(new approved_userlist($context, 'block_edcissuer', [$this->teacher->id]));
        $this->assertSame(0, $DB->count_records('block_edcissuer_status', ['requestedby' => $this->teacher->id]));
    }

    public function test_a_learners_export_holds_the_credential_with_its_status_and_file(): void {
        $context = \context_user::instance($this->learner->id);
        $this->export_context_data_for_user((int)$this->learner->id, $context, 'block_edcissuer');
        $subcontext = [get_string('pluginname', 'block_edcissuer')];
        $data = writer::with_context($context)->get_data($subcontext);
        $this->assertSame('issued', $data->credentials[0]->status);
        $this->assertSame('Data Literacy for Everyone', $data->credentials[0]->title);
        $this->assertSame('exam on paper', $data->statuses[0]->exceptionreason);
        $this->assertNotEmpty(writer::with_context($context)->get_files($subcontext));
    }

    public function test_deleting_a_learners_data_removes_rows_and_files(): void {
        global $DB;
        $context = \context_user::instance($this->learner->id);
        provider::delete_data_for_user(new approved_contextlist($this->learner, 'block_edcissuer', [$context->id]));
        $this->assertSame(0, $DB->count_records('block_edcissuer_cred', ['userid' => $this->learner->id]));
        $this->assertSame(0, $DB->count_records('block_edcissuer_status', ['userid' => $this->learner->id]));
        $this->assertSame([], get_file_storage()->get_area_files($context->id, 'block_edcissuer', 'credential', false,
            'id', false));
    }
}
