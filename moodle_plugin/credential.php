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
 * A learner's actions on one of their credentials: its printable PDF (GET action=pdf), sharing its public page
 * on or off (POST action=share|unshare, with the sesskey). Only the credential's holder may; the sidecar checks
 * again that the credential is this site's learner's.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

use block_edcissuer\issuance_store;
use block_edcissuer\persistent\credential;
use block_edcissuer\sidecar_client;

require(__DIR__ . '/../../config.php');

$id = required_param('id', PARAM_INT);
$action = required_param('action', PARAM_ALPHA);
require_login(null, false);
$record = credential::get_record(['id' => $id]);
if (!$record || (int)$record->get('userid') !== (int)$USER->id) {
    throw new moodle_exception('nocredential', 'block_edcissuer');
}
require_capability('block/edcissuer:viewown', context_system::instance());
$PAGE->set_url(new moodle_url('/blocks/edcissuer/credential.php', ['id' => $id, 'action' => $action]));
$PAGE->set_context(context_user::instance($USER->id));
$returnurl = new moodle_url(optional_param('returnurl', '/blocks/edcissuer/mycredentials.php', PARAM_LOCALURL));

if ($action === 'pdf') {
    try {
        $pdf = sidecar_client::from_config()->printable_pdf((string)$record->get('credentialid'), (int)$USER->id,
            substr(current_language(), 0, 2));
    } catch (moodle_exception $e) {
        redirect($returnurl, get_string('pdffailed', 'block_edcissuer', $e->getMessage()), null,
            \core\output\notification::NOTIFY_ERROR);
    }
    $name = pathinfo((string)$record->get('filename'), PATHINFO_FILENAME) . '.pdf';
    send_file($pdf, $name, 0, 0, true, false, 'application/pdf');
}

if ($action !== 'share' && $action !== 'unshare') {
    throw new moodle_exception('invalidaction', 'block_edcissuer', '', s($action));
}
require_sesskey();
if (!data_submitted()) {
    throw new moodle_exception('invalidaction', 'block_edcissuer', '', s($action));
}
try {
    $answer = sidecar_client::from_config()->set_sharing((string)$record->get('credentialid'), (int)$USER->id,
        $action === 'share');
} catch (moodle_exception $e) {
    redirect($returnurl, get_string('sharefailed', 'block_edcissuer', $e->getMessage()), null,
        \core\output\notification::NOTIFY_ERROR);
}
(new issuance_store())->set_sharing($record, $answer['shared'], $answer['public_url']);
redirect($returnurl, get_string($answer['shared'] ? 'sharedsaved' : 'unsharedsaved', 'block_edcissuer'), null,
    \core\output\notification::NOTIFY_SUCCESS);
