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

use block_edcissuer\local\spec_snapshot;
use block_edcissuer\local\status;

/**
 * A sealed credential the sidecar stored for a learner (table block_edcissuer_cred), with what its page needs
 * kept beside it (title, awarding body, course name), so it stays the learner's record after its course is gone.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class credential extends \core\persistent {
    /** Table name. */
    const TABLE = 'block_edcissuer_cred';

    /**
     * @return array
     */
    protected static function define_properties(): array {
        return [
            'userid' => ['type' => PARAM_INT],
            'courseid' => ['type' => PARAM_INT],
            'credentialid' => ['type' => PARAM_RAW],
            'format' => ['type' => PARAM_ALPHANUMEXT],
            'filename' => ['type' => PARAM_RAW],
            'contenthash' => ['type' => PARAM_ALPHANUM],
            'verifyurl' => ['type' => PARAM_RAW],
            'status' => ['type' => PARAM_ALPHA, 'default' => status::ISSUED,
                'choices' => [status::ISSUED, status::DELIVERED, status::REVOKED]],
            'reason' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'supersededby' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'timestatus' => ['type' => PARAM_INT, 'default' => 0],
            'title' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'awardingbody' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'coursename' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'shared' => ['type' => PARAM_BOOL, 'default' => false],
            'publicurl' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
        ];
    }

    /**
     * A stored credential by its id and format, or null.
     *
     * @param string $credentialid
     * @param string $format
     * @return self|null
     */
    public static function by_credential_id(string $credentialid, string $format): ?self {
        return self::get_record(['credentialid' => $credentialid, 'format' => $format]) ?: null;
    }

    /**
     * A learner's credentials, newest first.
     *
     * @param int $userid
     * @param int|null $courseid only this course
     * @return self[]
     */
    public static function of_learner(int $userid, ?int $courseid = null): array {
        $filters = ['userid' => $userid] + ($courseid ? ['courseid' => $courseid] : []);
        $records = self::get_records($filters, 'timecreated', 'DESC');
        usort($records, static fn(self $a, self $b) => [(int)$b->get('timecreated'), (int)$b->get('id')]
            <=> [(int)$a->get('timecreated'), (int)$a->get('id')]);
        return $records;
    }

    /**
     * What the learner sees: issued, delivered, revoked, or superseded (revoked because a corrected one replaced it).
     *
     * @return string
     */
    public function shown_status(): string {
        return status::of_credential((string)$this->get('status'), $this->get('supersededby'));
    }

    /**
     * A text kept as a JSON language map (title, awarding body) in the viewer's language, else the primary one.
     *
     * @param string $field 'title' or 'awardingbody'
     * @param string $lang two-letter language code
     * @return string '' when nothing was kept
     */
    public function text_in(string $field, string $lang): string {
        return spec_snapshot::text_in($this->get($field), $lang);
    }

    /**
     * Where its events are logged: its course (teachers see them in the course logs), or the learner's own
     * context once the course is gone.
     *
     * @return \context
     */
    public function event_context(): \context {
        return \context_course::instance((int)$this->get('courseid'), IGNORE_MISSING)
            ?: \context_user::instance((int)$this->get('userid'));
    }
}
