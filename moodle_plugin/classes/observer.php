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

use block_edcissuer\local\event_payload;

/**
 * Reacts to course completion by queueing a credential request.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class observer {
    /**
     * Queues the adhoc task that tells the sidecar; no HTTP here, so completion never waits on the sidecar.
     *
     * @param \core\event\course_completed $event
     */
    public static function course_completed(\core\event\course_completed $event): void {
        global $DB;
        if (!get_config('block_edcissuer', 'autoissue')) {
            return;
        }
        $userid = (int)$event->relateduserid;
        $courseid = (int)$event->courseid;
        $completion = $DB->get_record('course_completions', ['id' => $event->objectid], 'id, timecompleted');
        $completedat = ($completion && $completion->timecompleted) ? (int)$completion->timecompleted
            : (int)$event->timecreated;
        (new issuer())->request(event_payload::TYPE_COMPLETED, $courseid, $userid, $completedat, $completedat, null);
    }

    /**
     * A course was deleted: forget its description and request statuses; keep the learners' credentials.
     *
     * @param \core\event\course_deleted $event
     */
    public static function course_deleted(\core\event\course_deleted $event): void {
        (new issuance_store())->course_deleted((int)$event->objectid);
    }

    /**
     * A user was deleted: their credentials, files and statuses go; as a teacher, their name leaves the requests.
     *
     * @param \core\event\user_deleted $event
     */
    public static function user_deleted(\core\event\user_deleted $event): void {
        $store = new issuance_store();
        $store->delete_for_user((int)$event->objectid);
        $store->forget_requester((int)$event->objectid);
    }
}
