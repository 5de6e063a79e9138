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

/**
 * Moodle PHPUnit tests of the completion observer (need a Moodle test site).
 *
 * @package    block_edcissuer
 * @category   test
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \block_edcissuer\observer
 */
final class observer_test extends \advanced_testcase {
    /**
     * Completes a course for a new learner.
     *
     * @return array [course, learner]
     */
    private function complete(): array {
        global $CFG;
        require_once($CFG->dirroot . '/completion/completion_completion.php');
        $this->resetAfterTest();
        // The observer is not 'internal': it runs after the transaction commits, and rollback resets never commit.
        $this->preventResetByRollback();
        set_config('enablecompletion', 1);
        $course = $this->getDataGenerator()->create_course(['enablecompletion' => 1]);
        $learner = $this->getDataGenerator()->create_and_enrol($course, 'student');
        $completion = new \completion_completion(['course' => $course->id, 'userid' => $learner->id]);
        $completion->mark_complete();
        return [$course, $learner];
    }

    public function test_completion_queues_one_send_task_and_marks_queued(): void {
        set_config('autoissue', 1, 'block_edcissuer');
        [$course, $learner] = $this->complete();
        $tasks = \core\task\manager::get_adhoc_tasks('\\block_edcissuer\\task\\send_event');
        $this->assertCount(1, $tasks);
        $data = reset($tasks)->get_custom_data();
        $this->assertSame('course_completed', $data->type);
        $this->assertEquals($learner->id, $data->userid);
        $this->assertEquals($course->id, $data->courseid);
        $this->assertNull($data->requestedby);
        $row = (new issuance_store())->course_statuses($course->id)[$learner->id];
        $this->assertSame('queued', $row->status);
    }

    public function test_nothing_is_queued_when_automatic_issue_is_off(): void {
        set_config('autoissue', 0, 'block_edcissuer');
        [$course] = $this->complete();
        $this->assertCount(0, \core\task\manager::get_adhoc_tasks('\\block_edcissuer\\task\\send_event'));
        $this->assertSame([], (new issuance_store())->course_statuses($course->id));
    }

    public function test_the_task_without_a_configured_sidecar_fails_so_moodle_retries(): void {
        set_config('autoissue', 1, 'block_edcissuer');
        set_config('sidecarurl', '', 'block_edcissuer');
        $this->complete();
        $tasks = \core\task\manager::get_adhoc_tasks('\\block_edcissuer\\task\\send_event');
        $task = reset($tasks);
        $this->assertInstanceOf(task\send_event::class, $task);
        $this->expectExceptionMessageMatches('/not configured/');
        $this->expectException(\moodle_exception::class);
        $task->execute();
    }
}
