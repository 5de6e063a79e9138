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

use block_edcissuer\local\formats;
use block_edcissuer\local\status;

/**
 * The plugin's records: each learner's status per course and the credential files the sidecar stored.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class issuance_store {
    /** File area of the sealed files, in the learner's user context. */
    public const FILEAREA = 'credential';

    /**
     * Records a status unless a newer one is already known (see status::supersedes()).
     *
     * @param int $courseid
     * @param int $userid
     * @param string $status one of status::SIDECAR_NAMES
     * @param string $message detail, may be empty
     * @param int $timestamp when the status was reached
     * @param array $extra other columns to set with it: credentialid, issuanceid, requestedby
     * @param bool $force apply whatever is recorded (a new request by a person), keeping the time monotonic
     * @return bool whether it was applied
     */
    public function set_status(int $courseid, int $userid, string $status, string $message, int $timestamp,
            array $extra = [], bool $force = false): bool {
        global $DB;
        $row = $DB->get_record('block_edcissuer_status', ['courseid' => $courseid, 'userid' => $userid]);
        if ($row && $force) {
            $timestamp = max($timestamp, (int)$row->timestatus);
        } else if ($row && !status::supersedes($row->status, (int)$row->timestatus, $status, $timestamp)) {
            return false;
        }
        // null clears a column (a new round), '' leaves it as it was.
        $record = (object)array_merge(array_filter($extra, static fn($v) => $v !== ''), [
            'courseid' => $courseid,
            'userid' => $userid,
            'status' => $status,
            'message' => $message === '' ? null : $message,
            'timestatus' => $timestamp,
            'timemodified' => time(),
        ]);
        if ($row) {
            $record->id = $row->id;
            $DB->update_record('block_edcissuer_status', $record);
        } else {
            try {
                $DB->insert_record('block_edcissuer_status', $record);
            } catch (\dml_write_exception $e) {
                // Another request inserted the row first: apply on top of it.
                return $this->set_status($courseid, $userid, $status, $message, $timestamp, $extra, $force);
            }
        }
        return true;
    }

    /**
     * Updates the detail text of a learner's status without changing the status (e.g. why a send will be retried).
     *
     * @param int $courseid
     * @param int $userid
     * @param string $status only if the recorded status is still this one
     * @param string $message
     */
    public function note(int $courseid, int $userid, string $status, string $message): void {
        global $DB;
        $DB->set_field('block_edcissuer_status', 'message', $message,
            ['courseid' => $courseid, 'userid' => $userid, 'status' => $status]);
    }

    /**
     * Records the sidecar's id for a learner's request.
     *
     * @param int $courseid
     * @param int $userid
     * @param string|null $issuanceid
     */
    public function set_issuance_id(int $courseid, int $userid, ?string $issuanceid): void {
        global $DB;
        if ($issuanceid !== null && $issuanceid !== '') {
            $DB->set_field('block_edcissuer_status', 'issuanceid', $issuanceid, ['courseid' => $courseid, 'userid' => $userid]);
        }
    }

    /**
     * Statuses of a course, keyed by user id.
     *
     * @param int $courseid
     * @return \stdClass[]
     */
    public function course_statuses(int $courseid): array {
        global $DB;
        $rows = $DB->get_records('block_edcissuer_status', ['courseid' => $courseid]);
        $byuser = [];
        foreach ($rows as $row) {
            $byuser[(int)$row->userid] = $row;
        }
        return $byuser;
    }

    /**
     * Stores a sealed file once; a repeat with the same bytes changes nothing.
     *
     * @param int $userid learner
     * @param int $courseid course
     * @param string $credentialid credential id
     * @param string $format one of formats::NAMES
     * @param string $filename file name offered on download
     * @param string $content the file bytes
     * @param string $verifyurl public verification link
     * @return array ['stored' | 'unchanged', record]
     * @throws \moodle_exception credentialconflict when the id is known with other bytes
     */
    public function store_credential(int $userid, int $courseid, string $credentialid, string $format,
            string $filename, string $content, string $verifyurl): array {
        global $DB;
        $hash = hash('sha256', $content);
        $existing = $DB->get_record('block_edcissuer_cred', ['credentialid' => $credentialid, 'format' => $format]);
        if ($existing) {
            if ($existing->contenthash !== $hash || (int)$existing->userid !== $userid
                    || (int)$existing->courseid !== $courseid) {
                throw new \moodle_exception('credentialconflict', 'block_edcissuer', '', s($credentialid));
            }
            return ['unchanged', $existing];
        }
        $transaction = $DB->start_delegated_transaction();
        $record = (object)[
            'userid' => $userid,
            'courseid' => $courseid,
            'credentialid' => $credentialid,
            'format' => $format,
            'filename' => $filename,
            'contenthash' => $hash,
            'verifyurl' => $verifyurl,
            'timecreated' => time(),
        ];
        $record->id = $DB->insert_record('block_edcissuer_cred', $record);
        get_file_storage()->create_file_from_string(self::file_record($userid, (int)$record->id, $filename,
            formats::mime_type($format)), $content);
        $transaction->allow_commit();
        return ['stored', $record];
    }

    /**
     * A learner's credentials, newest first, with course names and the status of their course.
     *
     * @param int $userid
     * @param int|null $courseid only this course
     * @return \stdClass[]
     */
    public function credentials_for_user(int $userid, ?int $courseid = null): array {
        global $DB;
        $where = 'c.userid = :userid' . ($courseid ? ' AND c.courseid = :courseid' : '');
        $sql = "SELECT c.*, co.fullname AS coursename, s.status, s.credentialid AS statuscredentialid
                   FROM {block_edcissuer_cred} c
                   JOIN {course} co ON co.id = c.courseid
              LEFT JOIN {block_edcissuer_status} s ON s.courseid = c.courseid AND s.userid = c.userid
                  WHERE $where
               ORDER BY c.timecreated DESC, c.id DESC";
        $params = ['userid' => $userid] + ($courseid ? ['courseid' => $courseid] : []);
        return array_values($DB->get_records_sql($sql, $params));
    }

    /**
     * Where a credential's file lives.
     *
     * @param int $userid
     * @param int $itemid the credential record id
     * @param string $filename
     * @param string|null $mimetype the format's (else Moodle guesses from the extension: .json is not JSON-LD)
     * @return array
     */
    public static function file_record(int $userid, int $itemid, string $filename, ?string $mimetype = null): array {
        return array_filter([
            'contextid' => \context_user::instance($userid)->id,
            'component' => 'block_edcissuer',
            'filearea' => self::FILEAREA,
            'itemid' => $itemid,
            'filepath' => '/',
            'filename' => $filename,
            'mimetype' => $mimetype,
        ], static fn($v) => $v !== null);
    }

    /**
     * Download URL of a stored credential.
     *
     * @param \stdClass $record credential record
     * @return \moodle_url
     */
    public static function file_url(\stdClass $record): \moodle_url {
        return \moodle_url::make_pluginfile_url(\context_user::instance((int)$record->userid)->id, 'block_edcissuer',
            self::FILEAREA, (int)$record->id, '/', $record->filename, true);
    }

    /**
     * Deletes everything held about a user (privacy requests), optionally in some courses only.
     *
     * @param int $userid
     * @param int[]|null $courseids null for all
     */
    public function delete_for_user(int $userid, ?array $courseids = null): void {
        global $DB;
        $params = ['userid' => $userid];
        $coursesql = '';
        if ($courseids !== null) {
            if (!$courseids) {
                return;
            }
            [$insql, $inparams] = $DB->get_in_or_equal($courseids, SQL_PARAMS_NAMED);
            $coursesql = " AND courseid $insql";
            $params += $inparams;
        }
        $fs = get_file_storage();
        $context = \context_user::instance($userid, IGNORE_MISSING);
        foreach ($DB->get_records_select('block_edcissuer_cred', 'userid = :userid' . $coursesql, $params) as $cred) {
            if ($context) {
                $fs->delete_area_files($context->id, 'block_edcissuer', self::FILEAREA, $cred->id);
            }
        }
        $DB->delete_records_select('block_edcissuer_cred', 'userid = :userid' . $coursesql, $params);
        $DB->delete_records_select('block_edcissuer_status', 'userid = :userid' . $coursesql, $params);
    }
}
