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

namespace block_edcissuer\persistent;

/**
 * A learner's latest credential status in a course (table block_edcissuer_status): what the teacher page shows.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class learner_status extends \core\persistent {
    /** Table name. */
    const TABLE = 'block_edcissuer_status';

    /**
     * @return array
     */
    protected static function define_properties(): array {
        return [
            'courseid' => ['type' => PARAM_INT],
            'userid' => ['type' => PARAM_INT],
            'status' => ['type' => PARAM_ALPHA],
            'message' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'credentialid' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'issuanceid' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'requestedby' => ['type' => PARAM_INT, 'null' => NULL_ALLOWED, 'default' => null],
            'exceptionreason' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'timestatus' => ['type' => PARAM_INT, 'default' => 0],
        ];
    }

    /**
     * The learner's status row in the course, or null.
     *
     * @param int $courseid
     * @param int $userid
     * @return self|null
     */
    public static function for_learner(int $courseid, int $userid): ?self {
        return self::get_record(['courseid' => $courseid, 'userid' => $userid]) ?: null;
    }

    /**
     * Statuses of a course, keyed by user id.
     *
     * @param int $courseid
     * @return self[]
     */
    public static function of_course(int $courseid): array {
        $byuser = [];
        foreach (self::get_records(['courseid' => $courseid]) as $row) {
            $byuser[(int)$row->get('userid')] = $row;
        }
        return $byuser;
    }
}
