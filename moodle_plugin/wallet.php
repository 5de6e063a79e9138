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
 * Into the learner's wallet (OpenID4VCI), from My credentials. POST only, with the sesskey, by the credential's
 * holder with block/edcissuer:addtowallet:
 *
 *  - action=offer: the sidecar makes an offer; this page shows its link and QR code, and the sidecar mails the
 *    transaction code (the other channel);
 *  - action=code: for the offer in the credential's own mail, the sidecar makes a transaction code, shown here,
 *    to the learner only, and never stored.
 *
 * Nothing is kept in Moodle: reloading asks the sidecar again (a new offer replaces nothing; a new code replaces
 * the one before).
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

use block_edcissuer\local\status;
use block_edcissuer\local\wallet;
use block_edcissuer\persistent\credential;
use block_edcissuer\sidecar_client;

require(__DIR__ . '/../../config.php');

$id = required_param('id', PARAM_INT);
$action = required_param('action', PARAM_ALPHA);
require_login(null, false);
if (isguestuser()) {
    throw new require_login_exception('guests have no credentials');
}
$record = credential::get_record(['id' => $id]);
if (!$record || (int)$record->get('userid') !== (int)$USER->id) {
    throw new moodle_exception('nocredential', 'block_edcissuer');
}
require_capability('block/edcissuer:viewown', context_system::instance());
require_capability('block/edcissuer:addtowallet', context_system::instance());
$url = new moodle_url('/blocks/edcissuer/wallet.php', ['id' => $id, 'action' => $action]);
$PAGE->set_url($url);
$PAGE->set_context(context_user::instance($USER->id));
$PAGE->set_pagelayout('standard');
$PAGE->set_title(get_string('addtowallet', 'block_edcissuer'));
$PAGE->set_heading(get_string('addtowallet', 'block_edcissuer'));
$back = new moodle_url('/blocks/edcissuer/mycredentials.php');

if ($action !== 'offer' && $action !== 'code') {
    throw new moodle_exception('invalidaction', 'block_edcissuer', '', s($action));
}
require_sesskey();
if (!data_submitted()) {
    throw new moodle_exception('invalidaction', 'block_edcissuer', '', s($action));
}
if (in_array($record->shown_status(), [status::REVOKED, status::SUPERSEDED], true)) {
    redirect($back, get_string('walletrevoked', 'block_edcissuer'), null, \core\output\notification::NOTIFY_ERROR);
}

$title = $record->text_in('title', substr(current_language(), 0, 2));
$title = $title !== '' ? $title : format_string((string)$record->get('coursename'));
$context = ['title' => $title, 'backurl' => $back->out(false), 'isoffer' => $action === 'offer'];
$when = get_string('strftimedatetime', 'langconfig');
try {
    $client = sidecar_client::from_config();
    if ($action === 'offer') {
        $configuration = optional_param('configuration', wallet::SD_JWT, PARAM_ALPHAEXT);
        if (!in_array($configuration, wallet::CONFIGURATIONS, true)) {
            throw new moodle_exception('invalidaction', 'block_edcissuer', '', s($configuration));
        }
        $offer = $client->wallet_offer((string)$record->get('credentialid'), (int)$USER->id, $configuration);
        $context += [
            'link' => $offer['link'],
            'qrsrc' => $offer['qrsrc'],
            'expires' => userdate($offer['expiresat'], $when),
            'codehint' => get_string('walletstepcode', 'block_edcissuer',
                ['length' => $offer['txcodelength'], 'email' => $USER->email]),
            'isbadge' => $configuration === wallet::OB3,
        ];
    } else {
        $code = $client->wallet_code((string)$record->get('credentialid'), (int)$USER->id);
        if ($code === null) {
            redirect($back, get_string('walletnocode', 'block_edcissuer'), null, \core\output\notification::NOTIFY_WARNING);
        }
        $context += ['txcode' => $code['txcode'], 'expires' => userdate($code['expiresat'], $when)];
    }
} catch (moodle_exception $e) {
    redirect($back, get_string('walletfailed', 'block_edcissuer', $e->getMessage()), null,
        \core\output\notification::NOTIFY_ERROR);
}

$header = $OUTPUT->header(); // Sets Moodle's own headers, which are sent with the first output below.
// The page holds a secret-bearing link or a code: keep it out of caches and other sites' referrers.
@header('Cache-Control: no-store, private');
@header('Referrer-Policy: no-referrer');
echo $header;
echo $OUTPUT->render_from_template('block_edcissuer/wallet', $context);
echo $OUTPUT->footer();
