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
 * A course's credential description as a teacher last saved it (table block_edcissuer_spec).
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class course_spec extends \core\persistent {
    /** Table name. */
    const TABLE = 'block_edcissuer_spec';

    /**
     * @return array
     */
    protected static function define_properties(): array {
        return [
            'courseid' => ['type' => PARAM_INT],
            'spec' => ['type' => PARAM_RAW],
            'problems' => ['type' => PARAM_RAW, 'null' => NULL_ALLOWED, 'default' => null],
            'timesent' => ['type' => PARAM_INT, 'default' => 0],
        ];
    }

    /**
     * The course's description, or null when none was saved.
     *
     * @param int $courseid
     * @return self|null
     */
    public static function for_course(int $courseid): ?self {
        return self::get_record(['courseid' => $courseid]) ?: null;
    }

    /**
     * The description (schemas/course-credential.schema.json) as an array; [] when unreadable.
     *
     * @return array
     */
    public function document(): array {
        $decoded = json_decode((string)$this->get('spec'), true);
        return is_array($decoded) ? $decoded : [];
    }

    /**
     * Saves the description teachers submitted; the sidecar's verdict comes later (mark_sent/mark_refused).
     *
     * @param int $courseid
     * @param array $document
     * @return self
     */
    public static function save_document(int $courseid, array $document): self {
        $record = self::for_course($courseid) ?? new self(0, (object)['courseid' => $courseid]);
        $record->set('spec', json_encode($document, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES));
        $record->save();
        return $record;
    }

    /**
     * The sidecar accepted it.
     */
    public function mark_sent(): void {
        $this->set_many(['problems' => null, 'timesent' => time()])->save();
    }

    /**
     * The sidecar refused it, with these problems ([{pointer, message}]).
     *
     * @param array $problems
     */
    public function mark_refused(array $problems): void {
        $this->set('problems', json_encode($problems))->save();
    }

    /**
     * The sidecar's problems of the last send, [] when it was accepted.
     *
     * @return array
     */
    public function problems(): array {
        $problems = $this->get('problems');
        return $problems ? (json_decode($problems, true) ?: []) : [];
    }
}
