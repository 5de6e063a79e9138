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
 * The sidecar revoked a learner's credential (web service block_edcissuer_set_status), perhaps because a
 * corrected one replaced it.
 *
 * @property-read array $other ['credentialid' => string, 'reason' => string, 'supersededby' => string|null]
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class credential_revoked extends credential_event {
    /**
     * @return void
     */
    protected function init() {
        $this->data['crud'] = 'u';
        $this->data['edulevel'] = self::LEVEL_OTHER;
        $this->data['objecttable'] = 'block_edcissuer_cred';
    }

    /**
     * @param \block_edcissuer\persistent\credential $credential
     * @return array
     */
    protected static function details(\block_edcissuer\persistent\credential $credential): array {
        return ['reason' => (string)$credential->get('reason'), 'supersededby' => $credential->get('supersededby')];
    }

    /**
     * @return string
     */
    public static function get_name() {
        return get_string('event_credential_revoked', 'block_edcissuer');
    }

    /**
     * @return string
     */
    public function get_description() {
        $why = empty($this->other['supersededby']) ? '' : ", superseded by '" . s($this->other['supersededby']) . "'";
        return "The credential '" . s($this->other['credentialid']) . "' of the user with id '{$this->relateduserid}' "
            . "was revoked{$why}.";
    }
}
