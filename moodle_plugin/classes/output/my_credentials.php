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
use block_edcissuer\local\linkedin;
use block_edcissuer\local\status;
use block_edcissuer\persistent\credential;
use block_edcissuer\persistent\learner_status;

/**
 * "My credentials": a learner's credentials (and requests still under way), for the block and the full page.
 *
 * Each credential: its title, date, status (revoked with the reason, superseded naming its successor), format,
 * and what the learner can do with it: download the sealed file, print it, verify it, share its public page
 * (and copy that page's link), add it to their LinkedIn profile, add it to a digital wallet (wallet.php: the
 * offer shown here, or the code of the offer in the credential's mail). Everything comes from the plugin's own
 * records: rendering never calls the sidecar.
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
    /** @var bool the full page (every action spelled out) rather than the block */
    private bool $full;
    /** @var bool the viewer may add credentials to a wallet (block/edcissuer:addtowallet) */
    private bool $canwallet;

    /**
     * @param int $userid the learner
     * @param int|null $courseid only this course; null for all (dashboard, full page)
     * @param bool $full the full page
     */
    public function __construct(int $userid, ?int $courseid = null, bool $full = false) {
        $this->userid = $userid;
        $this->courseid = $courseid;
        $this->full = $full;
        $this->canwallet = has_capability('block/edcissuer:addtowallet', \context_system::instance(), $userid);
    }

    /**
     * @param \renderer_base $output
     * @return array
     */
    public function export_for_template(\renderer_base $output): array {
        $lang = substr(current_language(), 0, 2);
        $items = [];
        $seencourses = [];
        foreach (credential::of_learner($this->userid, $this->courseid) as $record) {
            $seencourses[(int)$record->get('courseid')] = true;
            $items[] = $this->credential_item($record, $lang);
        }
        // Requests under way (or failed) in courses with no credential yet.
        foreach (learner_status::get_records(['userid' => $this->userid] + ($this->courseid ? ['courseid' => $this->courseid]
                : []), 'timestatus', 'DESC') as $row) {
            $course = self::course_or_null((int)$row->get('courseid'));
            if (isset($seencourses[(int)$row->get('courseid')]) || !$course) {
                continue;
            }
            $state = $row->get('status');
            $items[] = [
                'title' => self::course_title($course, $lang),
                'date' => userdate((int)$row->get('timestatus'), get_string('strftimedate', 'langconfig')),
                'status' => $state,
                'statuslabel' => get_string('status_' . $state, 'block_edcissuer'),
                'badgeclass' => status::badge_class($state),
                'hasfile' => false,
            ];
        }
        return [
            'credentials' => $items,
            'hascredentials' => !empty($items),
            'full' => $this->full,
            'fullpageurl' => (new \moodle_url('/blocks/edcissuer/mycredentials.php'))->out(false),
        ];
    }

    /**
     * One stored credential and its actions.
     *
     * @param credential $record
     * @param string $lang the viewer's language (two letters)
     * @return array
     */
    private function credential_item(credential $record, string $lang): array {
        $id = (int)$record->get('id');
        $state = $record->shown_status();
        $title = $record->text_in('title', $lang);
        if ($title === '') {
            $course = self::course_or_null((int)$record->get('courseid'));
            $title = $course ? self::course_title($course, $lang) : format_string((string)$record->get('coursename'));
        }
        $actionurl = new \moodle_url('/blocks/edcissuer/credential.php');
        $shared = (bool)$record->get('shared') && (string)$record->get('publicurl') !== '';
        $revoked = in_array($state, [status::REVOKED, status::SUPERSEDED], true);
        $item = [
            'id' => $id,
            'title' => $title,
            'date' => userdate((int)$record->get('timecreated'), get_string('strftimedate', 'langconfig')),
            'status' => $state,
            'statuslabel' => get_string('status_' . $state, 'block_edcissuer'),
            'badgeclass' => status::badge_class($state),
            'revoked' => $revoked,
            'reason' => $revoked ? (string)$record->get('reason') : '',
            'supersededby' => $state === status::SUPERSEDED ? (string)$record->get('supersededby') : '',
            'format' => get_string(formats::label_key($record->get('format')), 'block_edcissuer'),
            'hasfile' => true,
            'downloadurl' => issuance_store::file_url($record)->out(false),
            'filename' => $record->get('filename'),
            'pdfurl' => (new \moodle_url($actionurl, ['id' => $id, 'action' => 'pdf']))->out(false),
            'verifyurl' => $record->get('verifyurl'),
            'actionurl' => $actionurl->out(false),
            'sesskey' => sesskey(),
            'returnurl' => $this->full ? '/blocks/edcissuer/mycredentials.php' : '/my/',
            'canshare' => !$revoked,
            'shared' => $shared,
            'publicurl' => $shared ? $record->get('publicurl') : '',
            'linkedinurl' => '',
            'canwallet' => !$revoked && $this->canwallet,
            'walleturl' => (new \moodle_url('/blocks/edcissuer/wallet.php'))->out(false),
            'walletsdjwt' => \block_edcissuer\local\wallet::SD_JWT,
            'walletob3' => \block_edcissuer\local\wallet::OB3,
        ];
        if ($shared && !$revoked) {
            $item['linkedinurl'] = linkedin::add_to_profile_url($title, $record->text_in('awardingbody', $lang),
                (int)$record->get('timecreated'), (string)$record->get('credentialid'), (string)$record->get('publicurl'));
        }
        return $item;
    }

    /**
     * The credential title of a course in the viewer's language, from its description; else the course name.
     *
     * @param \stdClass $course
     * @param string $lang
     * @return string
     */
    public static function course_title(\stdClass $course, string $lang): string {
        $spec = \block_edcissuer\persistent\course_spec::for_course((int)$course->id);
        $kept = \block_edcissuer\local\spec_snapshot::of($spec ? $spec->document() : []);
        $title = \block_edcissuer\local\spec_snapshot::text_in($kept['title'], $lang);
        return $title !== '' ? $title : format_string($course->fullname, true,
            ['context' => \context_course::instance((int)$course->id)]);
    }

    /**
     * The course, or null when it was deleted.
     *
     * @param int $courseid
     * @return \stdClass|null
     */
    private static function course_or_null(int $courseid): ?\stdClass {
        global $DB;
        return $DB->get_record('course', ['id' => $courseid]) ?: null;
    }
}
