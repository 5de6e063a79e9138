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

/**
 * The sidecar could not be reached or answered in a way that calls for a retry.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class sidecar_exception extends \moodle_exception {
    /**
     * @param string $detail what went wrong (no secrets)
     */
    public function __construct(string $detail) {
        parent::__construct('sidecarunreachable', 'block_edcissuer', '', $detail);
    }
}
