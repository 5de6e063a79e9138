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
 * Admin settings of block_edcissuer.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

if ($ADMIN->fulltree) {
    $settings->add(new admin_setting_heading('block_edcissuer/sidecarheading',
        get_string('settings_sidecar', 'block_edcissuer'), get_string('settings_sidecar_desc', 'block_edcissuer')));
    $settings->add(new admin_setting_configtext('block_edcissuer/sidecarurl',
        get_string('settings_sidecarurl', 'block_edcissuer'), get_string('settings_sidecarurl_desc', 'block_edcissuer'),
        '', PARAM_URL, 60));
    $settings->add(new admin_setting_configtext('block_edcissuer/keyid',
        get_string('settings_keyid', 'block_edcissuer'), get_string('settings_keyid_desc', 'block_edcissuer'),
        'moodle', PARAM_ALPHANUMEXT));
    $settings->add(new admin_setting_configpasswordunmask('block_edcissuer/secret',
        get_string('settings_secret', 'block_edcissuer'), get_string('settings_secret_desc', 'block_edcissuer'), ''));
    $settings->add(new admin_setting_configtext('block_edcissuer/siteid',
        get_string('settings_siteid', 'block_edcissuer'), get_string('settings_siteid_desc', 'block_edcissuer'),
        'moodle-' . substr(sha1($CFG->wwwroot), 0, 8), PARAM_ALPHANUMEXT));
    $settings->add(new admin_setting_configcheckbox('block_edcissuer/autoissue',
        get_string('settings_autoissue', 'block_edcissuer'), get_string('settings_autoissue_desc', 'block_edcissuer'), 1));
    $settings->add(new admin_setting_configselect('block_edcissuer/defaultlang',
        get_string('settings_defaultlang', 'block_edcissuer'), get_string('settings_defaultlang_desc', 'block_edcissuer'),
        'en', ['en' => get_string('lang_en', 'block_edcissuer'), 'lt' => get_string('lang_lt', 'block_edcissuer')]));
    $settings->add(new admin_setting_heading('block_edcissuer/httpsecurity',
        get_string('settings_httpsecurity', 'block_edcissuer'),
        get_string('settings_httpsecurity_desc', 'block_edcissuer', (object)[
            'blockedhosts' => (new moodle_url('/admin/search.php', ['query' => 'curlsecurityblockedhosts']))->out(),
            'allowedport' => (new moodle_url('/admin/search.php', ['query' => 'curlsecurityallowedport']))->out(),
        ])));
}
