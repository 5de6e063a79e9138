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

use block_edcissuer\local\plural;
use block_edcissuer\local\status;
use block_edcissuer\persistent\learner_status;

/**
 * What the block shows those who issue in a course: how the course's credentials stand (counts by status, from
 * Moodle's own records: rendering never calls the sidecar) and links to the description and issue pages.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class course_overview implements \renderable, \templatable {
    /** @var int */
    private int $courseid;
    /** @var bool may edit the description */
    private bool $managespec;
    /** @var bool may issue and see statuses */
    private bool $issue;

    /**
     * @param int $courseid
     * @param bool $managespec the viewer holds block/edcissuer:managespec in the course
     * @param bool $issue the viewer holds block/edcissuer:issue in the course
     */
    public function __construct(int $courseid, bool $managespec, bool $issue) {
        $this->courseid = $courseid;
        $this->managespec = $managespec;
        $this->issue = $issue;
    }

    /**
     * @return bool whether the viewer is one of those who issue or describe (else the block shows nothing of this)
     */
    public function has_content(): bool {
        return $this->managespec || $this->issue;
    }

    /**
     * Learners per status in the course, in the teacher page's order; only statuses some learner has.
     *
     * @param int $courseid
     * @return array<string,int>
     */
    public static function counts(int $courseid): array {
        $counts = array_fill_keys([status::DELIVERED, status::ISSUED, status::QUEUED, status::FAILED, status::PARKED,
            status::REVOKED], 0);
        foreach (learner_status::get_records(['courseid' => $courseid]) as $row) {
            $counts[$row->get('status')] = ($counts[$row->get('status')] ?? 0) + 1;
        }
        return array_filter($counts);
    }

    /**
     * @param \renderer_base $output
     * @return array
     */
    public function export_for_template(\renderer_base $output): array {
        $summary = [];
        $issued = 0;
        if ($this->issue) {
            foreach (self::counts($this->courseid) as $state => $count) {
                $summary[] = ['label' => get_string('status_' . $state, 'block_edcissuer'), 'count' => $count,
                    'badgeclass' => status::badge_class($state), 'status' => $state];
                if ($state === status::ISSUED || $state === status::DELIVERED) {
                    $issued += $count;
                }
            }
        }
        $links = [];
        if ($this->managespec) {
            $links[] = ['url' => (new \moodle_url('/blocks/edcissuer/spec.php', ['courseid' => $this->courseid]))->out(false),
                'label' => get_string('specpage', 'block_edcissuer')];
        }
        if ($this->issue) {
            $links[] = ['url' => (new \moodle_url('/blocks/edcissuer/issue.php', ['courseid' => $this->courseid]))->out(false),
                'label' => get_string('issuepage', 'block_edcissuer')];
        }
        return [
            'showcounts' => $this->issue,
            'issuedtext' => get_string('issuedcount_' . plural::form(current_language(), $issued), 'block_edcissuer', $issued),
            'summary' => $summary,
            'links' => $links,
        ];
    }
}
