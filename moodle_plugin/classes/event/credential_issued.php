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
 * The sidecar stored a sealed credential for a learner (web service block_edcissuer_store_credential).
 *
 * @property-read array $other ['credentialid' => string, 'format' => string]
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class credential_issued extends credential_event {
    /**
     * @return void
     */
    protected function init() {
        $this->data['crud'] = 'c';
        $this->data['edulevel'] = self::LEVEL_OTHER;
        $this->data['objecttable'] = 'block_edcissuer_cred';
    }

    /**
     * @param \block_edcissuer\persistent\credential $credential
     * @return array
     */
    protected static function details(\block_edcissuer\persistent\credential $credential): array {
        return ['format' => $credential->get('format')];
    }

    /**
     * @return string
     */
    public static function get_name() {
        return get_string('event_credential_issued', 'block_edcissuer');
    }

    /**
     * @return string
     */
    public function get_description() {
        return "The credential '" . s($this->other['credentialid']) . "' ({$this->other['format']}) was stored for the "
            . "user with id '{$this->relateduserid}' in the course with id '{$this->courseid}'.";
    }
}
