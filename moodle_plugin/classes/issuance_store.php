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

use block_edcissuer\event\credential_issued;
use block_edcissuer\event\credential_revoked;
use block_edcissuer\local\formats;
use block_edcissuer\local\spec_snapshot;
use block_edcissuer\local\status;
use block_edcissuer\persistent\course_spec;
use block_edcissuer\persistent\credential;
use block_edcissuer\persistent\learner_status;

/**
 * The plugin's records: each learner's status per course and the credential files the sidecar stored.
 *
 * Written through the core\persistent classes of classes/persistent/; the rules (which status wins, a sealed
 * file never changes, what a deleted course or user leaves) live here, once.
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
     * @param array $extra other columns to set with it: credentialid, issuanceid, requestedby, exceptionreason
     *                     (null clears a column, as a new round does; '' leaves it as it was)
     * @param bool $force apply whatever is recorded (a new request by a person), keeping the time monotonic
     * @return bool whether it was applied
     */
    public function set_status(int $courseid, int $userid, string $status, string $message, int $timestamp,
            array $extra = [], bool $force = false): bool {
        $row = learner_status::for_learner($courseid, $userid);
        if ($row && $force) {
            $timestamp = max($timestamp, (int)$row->get('timestatus'));
        } else if ($row && !status::supersedes($row->get('status'), (int)$row->get('timestatus'), $status, $timestamp)) {
            return false;
        }
        $row = $row ?? new learner_status(0, (object)['courseid' => $courseid, 'userid' => $userid]);
        $row->set_many(array_filter($extra, static fn($v) => $v !== '') + [
            'status' => $status,
            'message' => $message === '' ? null : $message,
            'timestatus' => $timestamp,
        ]);
        try {
            $row->save();
        } catch (\dml_write_exception $e) {
            // Another request inserted the row first: apply on top of it.
            return $this->set_status($courseid, $userid, $status, $message, $timestamp, $extra, $force);
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
        $row = learner_status::for_learner($courseid, $userid);
        if ($row && $row->get('status') === $status) {
            $row->set('message', $message === '' ? null : $message)->save();
        }
    }

    /**
     * Records the sidecar's id for a learner's request.
     *
     * @param int $courseid
     * @param int $userid
     * @param string|null $issuanceid
     */
    public function set_issuance_id(int $courseid, int $userid, ?string $issuanceid): void {
        $row = learner_status::for_learner($courseid, $userid);
        if ($row && $issuanceid !== null && $issuanceid !== '') {
            $row->set('issuanceid', $issuanceid)->save();
        }
    }

    /**
     * Statuses of a course, keyed by user id, as records (what the teacher page reads).
     *
     * @param int $courseid
     * @return \stdClass[]
     */
    public function course_statuses(int $courseid): array {
        return array_map(static fn(learner_status $row) => $row->to_record(), learner_status::of_course($courseid));
    }

    /**
     * Stores a sealed file once; a repeat with the same bytes changes nothing. What the credential's listing
     * needs (title, awarding body, course name) is kept with it, so it outlives its course.
     *
     * @param int $userid learner
     * @param int $courseid course
     * @param string $credentialid credential id
     * @param string $format one of formats::NAMES
     * @param string $filename file name offered on download
     * @param string $content the file bytes
     * @param string $verifyurl the credential's verification link
     * @return array ['stored' | 'unchanged', credential]
     * @throws \moodle_exception credentialconflict when the id is known with other bytes
     */
    public function store_credential(int $userid, int $courseid, string $credentialid, string $format,
            string $filename, string $content, string $verifyurl): array {
        global $DB;
        $hash = hash('sha256', $content);
        $existing = credential::by_credential_id($credentialid, $format);
        if ($existing) {
            if ($existing->get('contenthash') !== $hash || (int)$existing->get('userid') !== $userid
                    || (int)$existing->get('courseid') !== $courseid) {
                throw new \moodle_exception('credentialconflict', 'block_edcissuer', '', s($credentialid));
            }
            return ['unchanged', $existing];
        }
        $spec = course_spec::for_course($courseid);
        $snapshot = spec_snapshot::of($spec ? $spec->document() : []);
        $transaction = $DB->start_delegated_transaction();
        $record = new credential(0, (object)[
            'userid' => $userid,
            'courseid' => $courseid,
            'credentialid' => $credentialid,
            'format' => $format,
            'filename' => $filename,
            'contenthash' => $hash,
            'verifyurl' => $verifyurl,
            'status' => status::ISSUED,
            'timestatus' => time(),
            'title' => $snapshot['title'],
            'awardingbody' => $snapshot['awardingbody'],
            'coursename' => $DB->get_field('course', 'fullname', ['id' => $courseid]) ?: null,
        ]);
        $record->create();
        get_file_storage()->create_file_from_string(self::file_record($userid, (int)$record->get('id'), $filename,
            formats::mime_type($format)), $content);
        $transaction->allow_commit();
        credential_issued::for_credential($record)->trigger();
        return ['stored', $record];
    }

    /**
     * Records a stored credential's own status as the sidecar reports it (delivered, revoked; a revocation may
     * name the corrected credential that superseded it). A revoked credential stays revoked; the first
     * revocation is logged as \block_edcissuer\event\credential_revoked.
     *
     * @param int $userid the learner it must belong to
     * @param string $credentialid
     * @param string $state status::DELIVERED or status::REVOKED (others do not change a stored credential)
     * @param string $reason the sidecar's words (why it was revoked)
     * @param string|null $supersededby the credential that replaced it
     * @param int $timestamp when the sidecar reached the state
     * @return bool whether a stored credential changed
     */
    public function credential_status(int $userid, string $credentialid, string $state, string $reason,
            ?string $supersededby, int $timestamp): bool {
        if (!in_array($state, [status::DELIVERED, status::REVOKED], true) || $credentialid === '') {
            return false;
        }
        $changed = false;
        foreach (credential::get_records(['credentialid' => $credentialid, 'userid' => $userid]) as $record) {
            $current = $record->get('status');
            if ($current === status::REVOKED || ($current === $state && $state === status::DELIVERED)) {
                continue;
            }
            $record->set_many(['status' => $state, 'timestatus' => $timestamp]
                + ($state === status::REVOKED ? ['reason' => $reason === '' ? null : $reason,
                    'supersededby' => $supersededby ?: null] : []))->update();
            if ($state === status::REVOKED) {
                credential_revoked::for_credential($record)->trigger();
            }
            $changed = true;
        }
        return $changed;
    }

    /**
     * Records the sidecar's answer to the learner's choice to share the public page.
     *
     * @param credential $record
     * @param bool $shared
     * @param string $publicurl
     */
    public function set_sharing(credential $record, bool $shared, string $publicurl): void {
        $record->set_many(['shared' => (int)$shared, 'publicurl' => $publicurl === '' ? null : $publicurl])->update();
    }

    /**
     * A learner's credentials, newest first.
     *
     * @param int $userid
     * @param int|null $courseid only this course
     * @return credential[]
     */
    public function credentials_for_user(int $userid, ?int $courseid = null): array {
        return credential::of_learner($userid, $courseid);
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
     * @param credential $record
     * @return \moodle_url
     */
    public static function file_url(credential $record): \moodle_url {
        return \moodle_url::make_pluginfile_url(\context_user::instance((int)$record->get('userid'))->id,
            'block_edcissuer', self::FILEAREA, (int)$record->get('id'), '/', $record->get('filename'), true);
    }

    /**
     * Deletes everything held about a learner (privacy requests, a deleted user), optionally in some courses only.
     *
     * @param int $userid
     * @param int[]|null $courseids null for all
     */
    public function delete_for_user(int $userid, ?array $courseids = null): void {
        if ($courseids !== null && !$courseids) {
            return;
        }
        $fs = get_file_storage();
        $context = \context_user::instance($userid, IGNORE_MISSING);
        foreach (credential::get_records(['userid' => $userid]) as $record) {
            if ($courseids !== null && !in_array((int)$record->get('courseid'), $courseids)) {
                continue;
            }
            if ($context) {
                $fs->delete_area_files($context->id, 'block_edcissuer', self::FILEAREA, $record->get('id'));
            }
            $record->delete();
        }
        foreach (learner_status::get_records(['userid' => $userid]) as $row) {
            if ($courseids === null || in_array((int)$row->get('courseid'), $courseids)) {
                $row->delete();
            }
        }
    }

    /**
     * Forgets which teacher asked (a deleted teacher, or a privacy request of theirs): the requests stay, with
     * no one named; the reason they gave for an exception stays, as the learner's record needs it.
     *
     * @param int $teacherid
     * @param int[]|null $courseids null for all
     * @return int how many requests named the teacher
     */
    public function forget_requester(int $teacherid, ?array $courseids = null): int {
        $count = 0;
        foreach (learner_status::get_records(['requestedby' => $teacherid]) as $row) {
            if ($courseids === null || in_array((int)$row->get('courseid'), $courseids)) {
                $row->set('requestedby', null)->update();
                $count++;
            }
        }
        return $count;
    }

    /**
     * A course is gone: its description and the statuses of requests for it go too (nothing can be issued in
     * it any more); the sealed credentials stay, with what their listing needs kept beside them.
     *
     * @param int $courseid
     */
    public function course_deleted(int $courseid): void {
        foreach (course_spec::get_records(['courseid' => $courseid]) as $spec) {
            $spec->delete();
        }
        foreach (learner_status::get_records(['courseid' => $courseid]) as $row) {
            $row->delete();
        }
    }
}
