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

namespace block_edcissuer\external;

use block_edcissuer\issuance_store;
use block_edcissuer\local\status;
use block_edcissuer\persistent\credential;
use block_edcissuer\persistent\learner_status;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_single_structure;
use core_external\external_value;

/**
 * Web service the sidecar calls when a learner's credential changes status (README.md, "Web service contract").
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class set_status extends external_api {
    /**
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'userid' => new external_value(PARAM_INT, 'Moodle user id of the learner'),
            'courseid' => new external_value(PARAM_INT, 'Moodle course id'),
            'credentialid' => new external_value(PARAM_RAW_TRIMMED, 'Credential id, empty before one exists'),
            'status' => new external_value(PARAM_ALPHA, 'queued, issued, delivered, failed, revoked or parked'),
            'message' => new external_value(PARAM_TEXT, 'Short detail', VALUE_DEFAULT, ''),
            'timestamp' => new external_value(PARAM_INT, 'Unix seconds when the status was reached'),
            'supersededby' => new external_value(PARAM_RAW_TRIMMED,
                'With revoked: the id of the corrected credential that replaced this one', VALUE_DEFAULT, ''),
        ]);
    }

    /**
     * Records the status unless a newer one is known.
     *
     * @param int $userid
     * @param int $courseid
     * @param string $credentialid
     * @param string $status
     * @param string $message
     * @param int $timestamp
     * @param string $supersededby
     * @return array
     */
    public static function execute(int $userid, int $courseid, string $credentialid, string $status, string $message,
            int $timestamp, string $supersededby = ''): array {
        $params = self::validate_parameters(self::execute_parameters(), compact('userid', 'courseid', 'credentialid',
            'status', 'message', 'timestamp', 'supersededby'));
        $context = \context_system::instance();
        self::validate_context($context);
        require_capability('block/edcissuer:storecredential', $context);

        try {
            $state = status::from_sidecar($params['status']);
        } catch (\InvalidArgumentException $e) {
            throw new \moodle_exception('invalidstatus', 'block_edcissuer', '', s($params['status']));
        }
        $user = \core_user::get_user($params['userid']);
        if (!$user || $user->deleted) {
            throw new \moodle_exception('invaliduser', 'block_edcissuer', '', $params['userid']);
        }
        if ($params['supersededby'] !== '' && $state !== status::REVOKED) {
            throw new \moodle_exception('invalidsupersededby', 'block_edcissuer');
        }
        $applied = self::record($params['userid'], $params['courseid'], $params['credentialid'], $state,
            $params['message'], $params['timestamp'], $params['supersededby']);
        if ($applied === null) {
            throw new \moodle_exception('invalidcourse', 'block_edcissuer', '', $params['courseid']);
        }
        return ['applied' => $applied];
    }

    /**
     * Records a checked status, for this function and for store_credential's deliveredat (one call instead of two).
     *
     * @param int $userid an existing learner
     * @param int $courseid
     * @param string $credentialid may be ''
     * @param string $state a status:: constant
     * @param string $message cut to 1333 characters here
     * @param int $timestamp Unix seconds when the sidecar reached the status
     * @param string $supersededby '' or, with revoked, the corrected credential's id
     * @return bool|null whether anything changed; null when the course is gone and nothing did
     */
    public static function record(int $userid, int $courseid, string $credentialid, string $state, string $message,
            int $timestamp, string $supersededby = ''): ?bool {
        global $DB;
        $store = new issuance_store();
        $message = \core_text::substr($message, 0, 1333);
        // The credential's own status first: a revocation reaches the learner's record even after the course is
        // gone, and even when the course's row already follows a newer credential.
        $changed = $store->credential_status($userid, $credentialid, $state, $message,
            $supersededby === '' ? null : $supersededby, $timestamp);
        if (!$DB->record_exists('course', ['id' => $courseid])) {
            return $changed ? true : null;
        }
        // The course's row follows the newest credential: news of an older one (the revocation of a credential a
        // corrected one replaced) is that credential's alone.
        if (self::older_than_followed($courseid, $userid, $credentialid)) {
            return $changed;
        }
        $applied = $store->set_status($courseid, $userid, $state, $message, $timestamp,
            ['credentialid' => $credentialid]);
        return $applied || $changed;
    }

    /**
     * Whether the credential named was stored before the one the learner's course row follows.
     *
     * @param int $courseid
     * @param int $userid
     * @param string $credentialid may be ''
     * @return bool
     */
    private static function older_than_followed(int $courseid, int $userid, string $credentialid): bool {
        $row = learner_status::for_learner($courseid, $userid);
        $follows = $row ? (string)$row->get('credentialid') : '';
        if ($credentialid === '' || $follows === '' || $follows === $credentialid) {
            return false;
        }
        $named = credential::get_records(['credentialid' => $credentialid, 'userid' => $userid]);
        $followed = credential::get_records(['credentialid' => $follows, 'userid' => $userid]);
        return $named && $followed && (int)reset($named)->get('id') < (int)reset($followed)->get('id');
    }

    /**
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'applied' => new external_value(PARAM_BOOL, 'False when a newer status was already recorded'),
        ]);
    }
}
