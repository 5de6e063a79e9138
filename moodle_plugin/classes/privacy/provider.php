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
use block_edcissuer\persistent\credential;
use block_edcissuer\persistent\learner_status;
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
 * context per user covers a learner's export and deletion. A teacher's data is the requests they made
 * (`requestedby`, and the reason given for an exception): held in the course's context.
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
            'exceptionreason' => 'privacy:metadata:status:exceptionreason',
            'timestatus' => 'privacy:metadata:status:timestatus',
        ], 'privacy:metadata:status');
        $collection->add_database_table('block_edcissuer_cred', [
            'userid' => 'privacy:metadata:cred:userid',
            'courseid' => 'privacy:metadata:cred:courseid',
            'credentialid' => 'privacy:metadata:cred:credentialid',
            'filename' => 'privacy:metadata:cred:filename',
            'verifyurl' => 'privacy:metadata:cred:verifyurl',
            'status' => 'privacy:metadata:cred:status',
            'reason' => 'privacy:metadata:cred:reason',
            'title' => 'privacy:metadata:cred:title',
            'coursename' => 'privacy:metadata:cred:coursename',
            'shared' => 'privacy:metadata:cred:shared',
            'publicurl' => 'privacy:metadata:cred:publicurl',
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
            'exception_reason' => 'privacy:metadata:sidecar:exception_reason',
            'shared' => 'privacy:metadata:sidecar:shared',
            'wallet' => 'privacy:metadata:sidecar:wallet',
        ], 'privacy:metadata:sidecar');
        return $collection;
    }

    /**
     * The learner's own context (statuses, credentials, files) and the courses where they asked for credentials.
     *
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
        $sql = "SELECT ctx.id
                   FROM {context} ctx
                   JOIN {block_edcissuer_status} s ON s.courseid = ctx.instanceid AND ctx.contextlevel = :courselevel
                  WHERE s.requestedby = :teacherid";
        $contextlist->add_from_sql($sql, ['courselevel' => CONTEXT_COURSE, 'teacherid' => $userid]);
        return $contextlist;
    }

    /**
     * @param userlist $userlist
     */
    public static function get_users_in_context(userlist $userlist) {
        $context = $userlist->get_context();
        if ($context instanceof \context_user) {
            $params = ['userid' => $context->instanceid];
            $userlist->add_from_sql('userid', 'SELECT userid FROM {block_edcissuer_status} WHERE userid = :userid', $params);
            $userlist->add_from_sql('userid', 'SELECT userid FROM {block_edcissuer_cred} WHERE userid = :userid', $params);
        } else if ($context instanceof \context_course) {
            $userlist->add_from_sql('requestedby', 'SELECT requestedby FROM {block_edcissuer_status}
                WHERE courseid = :courseid AND requestedby IS NOT NULL', ['courseid' => $context->instanceid]);
        }
    }

    /**
     * @param approved_contextlist $contextlist
     */
    public static function export_user_data(approved_contextlist $contextlist) {
        $userid = (int)$contextlist->get_user()->id;
        $subcontext = [get_string('pluginname', 'block_edcissuer')];
        foreach ($contextlist->get_contexts() as $context) {
            if ($context instanceof \context_user && (int)$context->instanceid === $userid) {
                self::export_learner($context, $userid, $subcontext);
            } else if ($context instanceof \context_course) {
                self::export_requests($context, $userid, $subcontext);
            }
        }
    }

    /**
     * A learner's statuses, credentials and files, in their own context.
     *
     * @param \context_user $context
     * @param int $userid
     * @param array $subcontext
     */
    private static function export_learner(\context_user $context, int $userid, array $subcontext): void {
        $statuses = [];
        foreach (learner_status::get_records(['userid' => $userid]) as $row) {
            $statuses[] = (object)[
                'courseid' => $row->get('courseid'),
                'status' => $row->get('status'),
                'message' => $row->get('message'),
                'credentialid' => $row->get('credentialid'),
                'exceptionreason' => $row->get('exceptionreason'),
                'timestatus' => transform::datetime($row->get('timestatus')),
            ];
        }
        $credentials = [];
        foreach (credential::get_records(['userid' => $userid]) as $row) {
            $credentials[] = (object)[
                'courseid' => $row->get('courseid'),
                'coursename' => $row->get('coursename'),
                'title' => $row->text_in('title', current_language()),
                'credentialid' => $row->get('credentialid'),
                'format' => formats::canonical($row->get('format')) ?? $row->get('format'),
                'filename' => $row->get('filename'),
                'verifyurl' => $row->get('verifyurl'),
                'status' => $row->shown_status(),
                'reason' => $row->get('reason'),
                'supersededby' => $row->get('supersededby'),
                'shared' => transform::yesno($row->get('shared')),
                'publicurl' => $row->get('publicurl'),
                'timecreated' => transform::datetime($row->get('timecreated')),
            ];
            writer::with_context($context)->export_area_files($subcontext, 'block_edcissuer',
                issuance_store::FILEAREA, $row->get('id'));
        }
        writer::with_context($context)->export_data($subcontext,
            (object)['statuses' => $statuses, 'credentials' => $credentials]);
    }

    /**
     * The credential requests a teacher made in a course (which learner, when, how it went, the reason of an
     * exception), in the course's context.
     *
     * @param \context_course $context
     * @param int $teacherid
     * @param array $subcontext
     */
    private static function export_requests(\context_course $context, int $teacherid, array $subcontext): void {
        $requests = [];
        foreach (learner_status::get_records(['courseid' => $context->instanceid, 'requestedby' => $teacherid]) as $row) {
            $requests[] = (object)[
                'learner' => $row->get('userid'),
                'status' => $row->get('status'),
                'exceptionreason' => $row->get('exceptionreason'),
                'timestatus' => transform::datetime($row->get('timestatus')),
            ];
        }
        if ($requests) {
            writer::with_context($context)->export_data($subcontext, (object)['requests' => $requests]);
        }
    }

    /**
     * @param \context $context
     */
    public static function delete_data_for_all_users_in_context(\context $context) {
        if ($context instanceof \context_user) {
            (new issuance_store())->delete_for_user((int)$context->instanceid);
        } else if ($context instanceof \context_course) {
            foreach (learner_status::get_records_select('courseid = :courseid AND requestedby IS NOT NULL',
                    ['courseid' => $context->instanceid]) as $row) {
                $row->set('requestedby', null)->update();
            }
        }
    }

    /**
     * @param approved_contextlist $contextlist
     */
    public static function delete_data_for_user(approved_contextlist $contextlist) {
        $userid = (int)$contextlist->get_user()->id;
        $store = new issuance_store();
        $courseids = [];
        foreach ($contextlist->get_contexts() as $context) {
            if ($context instanceof \context_user && (int)$context->instanceid === $userid) {
                $store->delete_for_user($userid);
            } else if ($context instanceof \context_course) {
                $courseids[] = (int)$context->instanceid;
            }
        }
        if ($courseids) {
            $store->forget_requester($userid, $courseids);
        }
    }

    /**
     * @param approved_userlist $userlist
     */
    public static function delete_data_for_users(approved_userlist $userlist) {
        $context = $userlist->get_context();
        $store = new issuance_store();
        if ($context instanceof \context_user && in_array((int)$context->instanceid, $userlist->get_userids())) {
            $store->delete_for_user((int)$context->instanceid);
        } else if ($context instanceof \context_course) {
            foreach ($userlist->get_userids() as $teacherid) {
                $store->forget_requester((int)$teacherid, [(int)$context->instanceid]);
            }
        }
    }
}
