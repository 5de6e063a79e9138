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

/**
 * Web service functions and the sidecar's service (contract: README.md, "Web service contract").
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$functions = [
    'block_edcissuer_store_credential' => [
        'classname' => 'block_edcissuer\external\store_credential',
        'description' => 'Stores a sealed credential file for a learner (called by the EDC sidecar).',
        'type' => 'write',
        'capabilities' => 'block/edcissuer:storecredential',
        'ajax' => false,
    ],
    'block_edcissuer_set_status' => [
        'classname' => 'block_edcissuer\external\set_status',
        'description' => 'Records the credential status of a learner in a course (called by the EDC sidecar).',
        'type' => 'write',
        'capabilities' => 'block/edcissuer:storecredential',
        'ajax' => false,
    ],
];

$services = [
    'EDC sidecar' => [
        'functions' => ['block_edcissuer_store_credential', 'block_edcissuer_set_status'],
        'shortname' => 'block_edcissuer_sidecar',
        'restrictedusers' => 1,
        'enabled' => 1,
        'downloadfiles' => 0,
        'uploadfiles' => 0,
    ],
];
