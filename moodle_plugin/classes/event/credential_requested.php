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

namespace block_edcissuer\event;

/**
 * A credential was asked for a learner: on completion, or by a teacher (then perhaps as an exception for a
 * learner who has not completed the course, with the teacher's reason).
 *
 * @property-read array $other ['type' => course_completed|issue_requested, 'exception' => bool]
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class credential_requested extends \core\event\base {
    /**
     * @return void
     */
    protected function init() {
        $this->data['crud'] = 'c';
        $this->data['edulevel'] = self::LEVEL_TEACHING;
        $this->data['objecttable'] = 'block_edcissuer_status';
    }

    /**
     * The event for one request.
     *
     * @param int $courseid
     * @param int $learnerid
     * @param int $statusid the learner's status row
     * @param string $type event_payload::TYPE_*
     * @param bool $exception asked for a learner who had not completed the course
     * @return self
     */
    public static function for_request(int $courseid, int $learnerid, int $statusid, string $type, bool $exception): self {
        return self::create(['context' => \context_course::instance($courseid), 'objectid' => $statusid,
            'relateduserid' => $learnerid, 'other' => ['type' => $type, 'exception' => $exception]]);
    }

    /**
     * @return string
     */
    public static function get_name() {
        return get_string('event_credential_requested', 'block_edcissuer');
    }

    /**
     * @return string
     */
    public function get_description() {
        $how = $this->other['type'] === 'course_completed' ? 'on completing the course'
            : "by the user with id '{$this->userid}'" . (!empty($this->other['exception']) ? ', as an exception' : '');
        return "A credential was requested for the user with id '{$this->relateduserid}' in the course with id "
            . "'{$this->courseid}', {$how}.";
    }

    /**
     * @return \moodle_url
     */
    public function get_url() {
        return new \moodle_url('/blocks/edcissuer/issue.php', ['courseid' => $this->courseid]);
    }

    /**
     * @return array
     */
    public static function get_objectid_mapping() {
        return ['db' => 'block_edcissuer_status', 'restore' => \core\event\base::NOT_MAPPED];
    }

    /**
     * @return array
     */
    public static function get_other_mapping() {
        return false;
    }

    /**
     * @throws \coding_exception
     */
    protected function validate_data() {
        parent::validate_data();
        if (!isset($this->relateduserid)) {
            throw new \coding_exception('relateduserid (the learner) must be set');
        }
        if (!isset($this->other['type'])) {
            throw new \coding_exception('other[type] must be set');
        }
    }
}
