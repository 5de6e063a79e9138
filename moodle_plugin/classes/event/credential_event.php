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

use block_edcissuer\persistent\credential;

/**
 * What the events about one stored credential share: logged in its course (teachers see them in the course
 * logs), or in the learner's context once the course is gone; about the learner; naming the credential.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
abstract class credential_event extends \core\event\base {
    /**
     * The event for a credential.
     *
     * @param credential $credential
     * @return static
     */
    public static function for_credential(credential $credential): self {
        return static::create(['context' => $credential->event_context(), 'objectid' => $credential->get('id'),
            'relateduserid' => $credential->get('userid'),
            'other' => ['credentialid' => $credential->get('credentialid')] + static::details($credential)]);
    }

    /**
     * What else the event says of the credential.
     *
     * @param credential $credential
     * @return array
     */
    abstract protected static function details(credential $credential): array;

    /**
     * @return array
     */
    public static function get_objectid_mapping() {
        return ['db' => 'block_edcissuer_cred', 'restore' => \core\event\base::NOT_MAPPED];
    }

    /**
     * @return bool
     */
    public static function get_other_mapping() {
        return false;
    }

    /**
     * @throws \coding_exception
     */
    protected function validate_data() {
        parent::validate_data();
        if (!isset($this->relateduserid) || !isset($this->other['credentialid'])) {
            throw new \coding_exception('relateduserid and other[credentialid] must be set');
        }
    }
}
