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

namespace block_edcissuer\task;

use block_edcissuer\issuer;
use block_edcissuer\local\status;

/**
 * Asks the sidecar how the requests still queued in Moodle stand (every few minutes), so the teacher page shows
 * what the sidecar knows (parked for a missing description element, failed) without calling the sidecar itself.
 * Delivered and revoked credentials reach Moodle at once through the web service; this is for the rest.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class sync_statuses extends \core\task\scheduled_task {
    /** Requests younger than this are left to the sending task and the web service. */
    public const SETTLE_SECONDS = 60;
    /** Courses asked about in one run. */
    public const MAX_COURSES = 50;

    /**
     * @return string
     */
    public function get_name(): string {
        return get_string('tasksyncstatuses', 'block_edcissuer');
    }

    /**
     * Syncs each course with a request queued for a while; one course's failure does not stop the others.
     */
    public function execute(): void {
        global $DB;
        if (!get_config('block_edcissuer', 'sidecarurl')) {
            return;
        }
        $courseids = $DB->get_fieldset_sql('SELECT DISTINCT s.courseid FROM {block_edcissuer_status} s
                                              JOIN {course} c ON c.id = s.courseid
                                             WHERE s.status = :queued AND s.timestatus < :settled
                                          ORDER BY s.courseid', ['queued' => status::QUEUED,
            'settled' => time() - self::SETTLE_SECONDS], 0, self::MAX_COURSES);
        $issuer = new issuer();
        foreach ($courseids as $courseid) {
            try {
                mtrace('block_edcissuer: course ' . $courseid . ': ' . $issuer->sync_course((int)$courseid) . ' status(es) updated');
            } catch (\moodle_exception $e) {
                mtrace('block_edcissuer: course ' . $courseid . ': ' . $e->getMessage());
            }
        }
    }
}
