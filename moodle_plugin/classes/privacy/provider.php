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

namespace block_edcissuer\privacy;

use block_edcissuer\issuance_store;
use block_edcissuer\local\formats;
use core_privacy\local\metadata\collection;
use core_privacy\local\request\approved_contextlist;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\contextlist;
use core_privacy\local\request\transform;
use core_privacy\local\request\userlist;
use core_privacy\local\request\writer;

/**
 * Privacy provider: what the plugin keeps, what it sends to the sidecar, export and deletion.
 *
 * Everything about a learner is held in their user context (the credential files live there), so one
 * context per user covers export and deletion.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements
        \core_privacy\local\metadata\provider,
        \core_privacy\local\request\plugin\provider,
        \core_privacy\local\request\core_userlist_provider {

    /**
     * @param collection $collection
     * @return collection
     */
    public static function get_metadata(collection $collection): collection {
        $collection->add_database_table('block_edcissuer_status', [
            'userid' => 'privacy:metadata:status:userid',
            'courseid' => 'privacy:metadata:status:courseid',
            'status' => 'privacy:metadata:status:status',
            'message' => 'privacy:metadata:status:message',
            'credentialid' => 'privacy:metadata:status:credentialid',
            'requestedby' => 'privacy:metadata:status:requestedby',
            'timestatus' => 'privacy:metadata:status:timestatus',
        ], 'privacy:metadata:status');
        $collection->add_database_table('block_edcissuer_cred', [
            'userid' => 'privacy:metadata:cred:userid',
            'courseid' => 'privacy:metadata:cred:courseid',
            'credentialid' => 'privacy:metadata:cred:credentialid',
            'filename' => 'privacy:metadata:cred:filename',
            'verifyurl' => 'privacy:metadata:cred:verifyurl',
            'timecreated' => 'privacy:metadata:cred:timecreated',
        ], 'privacy:metadata:cred');
        $collection->add_subsystem_link('core_files', [], 'privacy:metadata:files');
        $collection->add_external_location_link('sidecar', [
            'userid' => 'privacy:metadata:sidecar:userid',
            'email' => 'privacy:metadata:sidecar:email',
            'given_names' => 'privacy:metadata:sidecar:given_names',
            'family_name' => 'privacy:metadata:sidecar:family_name',
            'lang' => 'privacy:metadata:sidecar:lang',
            'course' => 'privacy:metadata:sidecar:course',
            'completed_at' => 'privacy:metadata:sidecar:completed_at',
            'requested_by' => 'privacy:metadata:sidecar:requested_by',
        ], 'privacy:metadata:sidecar');
        return $collection;
    }

    /**
     * @param int $userid
     * @return contextlist
     */
    public static function get_contexts_for_userid(int $userid): contextlist {
        $contextlist = new contextlist();
        $sql = "SELECT ctx.id
                   FROM {context} ctx
                  WHERE ctx.contextlevel = :userlevel AND ctx.instanceid = :userid
                    AND (EXISTS (SELECT 1 FROM {block_edcissuer_status} s WHERE s.userid = ctx.instanceid)
                         OR EXISTS (SELECT 1 FROM {block_edcissuer_cred} c WHERE c.userid = ctx.instanceid))";
        $contextlist->add_from_sql($sql, ['userlevel' => CONTEXT_USER, 'userid' => $userid]);
        return $contextlist;
    }

    /**
     * @param userlist $userlist
     */
    public static function get_users_in_context(userlist $userlist) {
        $context = $userlist->get_context();
        if (!$context instanceof \context_user) {
            return;
        }
        $params = ['userid' => $context->instanceid];
        $userlist->add_from_sql('userid', 'SELECT userid FROM {block_edcissuer_status} WHERE userid = :userid', $params);
        $userlist->add_from_sql('userid', 'SELECT userid FROM {block_edcissuer_cred} WHERE userid = :userid', $params);
    }

    /**
     * @param approved_contextlist $contextlist
     */
    public static function export_user_data(approved_contextlist $contextlist) {
        global $DB;
        $userid = (int)$contextlist->get_user()->id;
        foreach ($contextlist->get_contexts() as $context) {
            if (!$context instanceof \context_user || (int)$context->instanceid !== $userid) {
                continue;
            }
            $subcontext = [get_string('pluginname', 'block_edcissuer')];
            $statuses = [];
            foreach ($DB->get_records('block_edcissuer_status', ['userid' => $userid]) as $row) {
                $statuses[] = (object)[
                    'courseid' => $row->courseid,
                    'status' => $row->status,
                    'message' => $row->message,
                    'credentialid' => $row->credentialid,
                    'timestatus' => transform::datetime($row->timestatus),
                ];
            }
            $credentials = [];
            foreach ($DB->get_records('block_edcissuer_cred', ['userid' => $userid]) as $row) {
                $credentials[] = (object)[
                    'courseid' => $row->courseid,
                    'credentialid' => $row->credentialid,
                    'format' => formats::canonical($row->format) ?? $row->format,
                    'filename' => $row->filename,
                    'verifyurl' => $row->verifyurl,
                    'timecreated' => transform::datetime($row->timecreated),
                ];
                writer::with_context($context)->export_area_files($subcontext, 'block_edcissuer',
                    issuance_store::FILEAREA, $row->id);
            }
            writer::with_context($context)->export_data($subcontext,
                (object)['statuses' => $statuses, 'credentials' => $credentials]);
        }
    }

    /**
     * @param \context $context
     */
    public static function delete_data_for_all_users_in_context(\context $context) {
        if ($context instanceof \context_user) {
            (new issuance_store())->delete_for_user((int)$context->instanceid);
        }
    }

    /**
     * @param approved_contextlist $contextlist
     */
    public static function delete_data_for_user(approved_contextlist $contextlist) {
        $userid = (int)$contextlist->get_user()->id;
        foreach ($contextlist->get_contexts() as $context) {
            if ($context instanceof \context_user && (int)$context->instanceid === $userid) {
                (new issuance_store())->delete_for_user($userid);
            }
        }
    }

    /**
     * @param approved_userlist $userlist
     */
    public static function delete_data_for_users(approved_userlist $userlist) {
        $context = $userlist->get_context();
        if ($context instanceof \context_user && in_array((int)$context->instanceid, $userlist->get_userids())) {
            (new issuance_store())->delete_for_user((int)$context->instanceid);
        }
    }
}
