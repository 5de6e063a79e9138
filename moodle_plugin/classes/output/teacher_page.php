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

namespace block_edcissuer\output;

use block_edcissuer\local\status;

/**
 * The teacher page: learners with completion and credential status, and the issue form.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class teacher_page implements \renderable, \templatable {
    /** @var \stdClass */
    private \stdClass $course;
    /** @var \stdClass[] learners */
    private array $learners;
    /** @var array<int,int> user id => completion time */
    private array $completions;
    /** @var \stdClass[] user id => status row */
    private array $statuses;

    /**
     * @param \stdClass $course
     * @param \stdClass[] $learners enrolled users who may hold credentials
     * @param array $completions user id => time completed
     * @param array $statuses user id => status row
     */
    public function __construct(\stdClass $course, array $learners, array $completions, array $statuses) {
        $this->course = $course;
        $this->learners = $learners;
        $this->completions = $completions;
        $this->statuses = $statuses;
    }

    /**
     * Whether any learner is still queued (the page then refreshes itself).
     *
     * @return bool
     */
    public function has_pending(): bool {
        foreach ($this->statuses as $row) {
            if (status::is_pending($row->status)) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param \renderer_base $output
     * @return array
     */
    public function export_for_template(\renderer_base $output): array {
        $rows = [];
        $counts = array_fill_keys([status::NOT_ISSUED, status::QUEUED, status::ISSUED, status::DELIVERED, status::FAILED,
            status::REVOKED, status::PARKED], 0);
        foreach ($this->learners as $user) {
            $row = $this->statuses[(int)$user->id] ?? null;
            $state = $row ? $row->status : status::NOT_ISSUED;
            $counts[$state] = ($counts[$state] ?? 0) + 1;
            $completed = $this->completions[(int)$user->id] ?? 0;
            $rows[] = [
                'userid' => (int)$user->id,
                'fullname' => fullname($user),
                'completed' => $completed > 0,
                'completeddate' => $completed ? userdate($completed, get_string('strftimedatetimeshort', 'langconfig')) : '',
                'status' => $state,
                'statuslabel' => get_string('status_' . $state, 'block_edcissuer'),
                'badgeclass' => status::badge_class($state),
                'statustime' => $row && $row->timestatus
                    ? userdate((int)$row->timestatus, get_string('strftimedatetimeshort', 'langconfig')) : '',
                'message' => $row && $row->message ? shorten_text($row->message, 200) : '',
                'exception' => $row && $row->exceptionreason ? (string)$row->exceptionreason : '',
                'requestedby' => $row && $row->requestedby ? $this->teacher_name((int)$row->requestedby) : '',
            ];
        }
        $summary = [];
        foreach ($counts as $state => $count) {
            if ($count) {
                $summary[] = ['label' => get_string('status_' . $state, 'block_edcissuer'), 'count' => $count,
                    'badgeclass' => status::badge_class($state)];
            }
        }
        return [
            'actionurl' => $this->action_url(),
            'sesskey' => sesskey(),
            'learners' => $rows,
            'haslearners' => !empty($rows),
            'summary' => $summary,
            'refreshing' => $this->has_pending(),
        ];
    }

    /**
     * The confirmation asked before requesting credentials for learners who have not completed the course.
     *
     * @param int[] $chosen every learner chosen (all are requested once confirmed)
     * @param int[] $notcompleted those of them who have not completed the course
     * @param bool $reasonmissing the teacher confirmed without giving a reason
     * @return array the context of templates/confirm_exception.mustache
     */
    public function exception_confirmation(array $chosen, array $notcompleted, bool $reasonmissing): array {
        return [
            'actionurl' => $this->action_url(),
            'cancelurl' => $this->action_url(),
            'sesskey' => sesskey(),
            'userids' => array_map(static fn($id) => ['id' => (int)$id], $chosen),
            'learners' => array_map(fn($id) => ['fullname' => fullname($this->learners[$id])], $notcompleted),
            'count' => count($notcompleted),
            'reasonmissing' => $reasonmissing,
        ];
    }

    /**
     * @return string
     */
    private function action_url(): string {
        return (new \moodle_url('/blocks/edcissuer/issue.php', ['courseid' => $this->course->id]))->out(false);
    }

    /**
     * The name of the teacher who asked, as those on this page may see it.
     *
     * @param int $userid
     * @return string
     */
    private function teacher_name(int $userid): string {
        $user = \core_user::get_user($userid);
        return $user && !$user->deleted ? fullname($user) : '';
    }
}
