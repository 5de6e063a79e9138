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
use block_edcissuer\local\formats;
use block_edcissuer\local\status;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_single_structure;
use core_external\external_value;

/**
 * Web service the sidecar calls to hand a sealed credential to Moodle (README.md, "Web service contract").
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class store_credential extends external_api {
    /**
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'userid' => new external_value(PARAM_INT, 'Moodle user id of the learner'),
            'courseid' => new external_value(PARAM_INT, 'Moodle course id'),
            'credentialid' => new external_value(PARAM_RAW_TRIMMED, 'Credential id, e.g. urn:credential:<uuid>'),
            'filename' => new external_value(PARAM_RAW_TRIMMED, 'File name offered on download'),
            'content' => new external_value(PARAM_RAW, 'File bytes, base64'),
            'verifyurl' => new external_value(PARAM_RAW_TRIMMED, 'Public verification link'),
            'format' => new external_value(PARAM_ALPHANUMEXT,
                'edc-xml or elm3-jsonld (older names edc-xml-v1, elm-v3-jsonld accepted), empty: from the file name',
                VALUE_DEFAULT, ''),
            'deliveredat' => new external_value(PARAM_INT,
                'Unix seconds when the sidecar finished delivering: also records the status delivered, as set_status ' .
                'would (one call instead of two). 0: only store', VALUE_DEFAULT, 0),
        ]);
    }

    /**
     * Stores the file once and records it; repeats with the same bytes change nothing.
     *
     * @param int $userid
     * @param int $courseid
     * @param string $credentialid
     * @param string $filename
     * @param string $content base64
     * @param string $verifyurl
     * @param string $format
     * @param int $deliveredat
     * @return array
     */
    public static function execute(int $userid, int $courseid, string $credentialid, string $filename, string $content,
            string $verifyurl, string $format = '', int $deliveredat = 0): array {
        global $DB;
        $params = self::validate_parameters(self::execute_parameters(), compact('userid', 'courseid', 'credentialid',
            'filename', 'content', 'verifyurl', 'format', 'deliveredat'));
        $context = \context_system::instance();
        self::validate_context($context);
        require_capability('block/edcissuer:storecredential', $context);

        $user = \core_user::get_user($params['userid']);
        if (!$user || $user->deleted) {
            throw new \moodle_exception('invaliduser', 'block_edcissuer', '', $params['userid']);
        }
        if (!$DB->record_exists('course', ['id' => $params['courseid']])) {
            throw new \moodle_exception('invalidcourse', 'block_edcissuer', '', $params['courseid']);
        }
        if ($params['credentialid'] === '' || \core_text::strlen($params['credentialid']) > 255) {
            throw new \moodle_exception('invalidcredentialid', 'block_edcissuer');
        }
        $filename = $params['filename'];
        if ($filename === '' || clean_param($filename, PARAM_FILE) !== $filename || strlen($filename) > 255) {
            throw new \moodle_exception('invalidfilename', 'block_edcissuer', '', s($filename));
        }
        $format = formats::of_file($params['format'], $filename);
        if ($format === null) {
            throw new \moodle_exception('invalidformat', 'block_edcissuer', '',
                (object)['format' => s($params['format']), 'filename' => s($filename)]);
        }
        if (!preg_match('~^https?://[^\s]+$~', $params['verifyurl'])) {
            throw new \moodle_exception('invalidverifyurl', 'block_edcissuer');
        }
        $bytes = base64_decode($params['content'], true);
        if ($bytes === false || $bytes === '') {
            throw new \moodle_exception('invalidcontent', 'block_edcissuer');
        }
        if ($params['deliveredat'] < 0) {
            throw new \moodle_exception('invaliddeliveredat', 'block_edcissuer', '', $params['deliveredat']);
        }

        $store = new issuance_store();
        [$result, $record] = $store->store_credential($params['userid'], $params['courseid'], $params['credentialid'],
            $format, $filename, $bytes, $params['verifyurl']);
        if ($result === 'stored') {
            // A newly stored credential is the course's latest news for the learner (a re-issue replaces a revoked
            // one), whatever the row said in the same second.
            $store->set_status($params['courseid'], $params['userid'], status::ISSUED, '', (int)$record->get('timecreated'),
                ['credentialid' => $params['credentialid']], true);
        }
        // Delivered in the same call: what set_status would record, after the file is safely stored.
        $delivered = $params['deliveredat'] > 0 && (bool)set_status::record($params['userid'], $params['courseid'],
            $params['credentialid'], status::DELIVERED, '', $params['deliveredat']);
        return [
            'result' => $result,
            'delivered' => $delivered,
            'recordid' => (int)$record->get('id'),
            'fileurl' => issuance_store::file_url($record)->out(false),
        ];
    }

    /**
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'result' => new external_value(PARAM_ALPHA, 'stored or unchanged'),
            'delivered' => new external_value(PARAM_BOOL, 'Whether deliveredat was recorded (false: not asked, or a ' .
                'newer status was known)'),
            'recordid' => new external_value(PARAM_INT, 'Id of the credential record'),
            'fileurl' => new external_value(PARAM_URL, 'Download URL (for the learner and staff)'),
        ]);
    }
}
