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

use block_edcissuer\issuance_store;
use block_edcissuer\local\formats;
use block_edcissuer\local\status;

/**
 * "My credentials": a learner's credentials (and requests still under way), for the block.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class my_credentials implements \renderable, \templatable {
    /** @var int */
    private int $userid;
    /** @var int|null */
    private ?int $courseid;

    /**
     * @param int $userid the learner
     * @param int|null $courseid only this course; null for all (dashboard)
     */
    public function __construct(int $userid, ?int $courseid = null) {
        $this->userid = $userid;
        $this->courseid = $courseid;
    }

    /**
     * @param \renderer_base $output
     * @return array
     */
    public function export_for_template(\renderer_base $output): array {
        global $DB;
        $items = [];
        $seencourses = [];
        foreach ((new issuance_store())->credentials_for_user($this->userid, $this->courseid) as $cred) {
            // The course's status row follows the newest request; it speaks for this file only if it names it.
            $state = ($cred->status && $cred->statuscredentialid === $cred->credentialid) ? $cred->status : status::ISSUED;
            $seencourses[(int)$cred->courseid] = true;
            $items[] = [
                'title' => self::title((int)$cred->courseid, (string)$cred->coursename),
                'date' => userdate((int)$cred->timecreated, get_string('strftimedate', 'langconfig')),
                'status' => $state,
                'statuslabel' => get_string('status_' . $state, 'block_edcissuer'),
                'badgeclass' => status::badge_class($state),
                'downloadurl' => issuance_store::file_url($cred)->out(false),
                'filename' => $cred->filename,
                'verifyurl' => $cred->verifyurl,
                'format' => get_string(formats::label_key($cred->format), 'block_edcissuer'),
                'hasfile' => true,
            ];
        }
        $conditions = ['userid' => $this->userid] + ($this->courseid ? ['courseid' => $this->courseid] : []);
        foreach ($DB->get_records('block_edcissuer_status', $conditions, 'timestatus DESC') as $row) {
            if (isset($seencourses[(int)$row->courseid]) || !$DB->record_exists('course', ['id' => $row->courseid])) {
                continue;
            }
            $coursename = (string)$DB->get_field('course', 'fullname', ['id' => $row->courseid]);
            $items[] = [
                'title' => self::title((int)$row->courseid, $coursename),
                'date' => userdate((int)$row->timestatus, get_string('strftimedate', 'langconfig')),
                'status' => $row->status,
                'statuslabel' => get_string('status_' . $row->status, 'block_edcissuer'),
                'badgeclass' => status::badge_class($row->status),
                'hasfile' => false,
            ];
        }
        return ['credentials' => $items, 'hascredentials' => !empty($items)];
    }

    /**
     * The credential's title in the viewer's language, from the course description; else the course name.
     *
     * @param int $courseid
     * @param string $coursename
     * @return string
     */
    public static function title(int $courseid, string $coursename): string {
        global $DB;
        $json = $DB->get_field('block_edcissuer_spec', 'spec', ['courseid' => $courseid]);
        $spec = $json ? json_decode($json, true) : null;
        if (is_array($spec) && !empty($spec['title']) && is_array($spec['title'])) {
            $lang = substr(current_language(), 0, 2);
            $primary = $spec['primary_language'] ?? 'en';
            return (string)($spec['title'][$lang] ?? $spec['title'][$primary] ?? reset($spec['title']));
        }
        return format_string($coursename, true, ['context' => \context_course::instance($courseid)]);
    }
}
