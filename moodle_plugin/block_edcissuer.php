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
 * The EDC credentials block: "My credentials" for learners, links to the credential pages for teachers.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class block_edcissuer extends block_base {
    /**
     * Sets the title.
     */
    public function init() {
        $this->title = get_string('pluginname', 'block_edcissuer');
    }

    /**
     * @return array where the block may be added
     */
    public function applicable_formats() {
        return ['course-view' => true, 'my' => true, 'site-index' => true, 'mod' => false];
    }

    /**
     * @return bool
     */
    public function has_config() {
        return true;
    }

    /**
     * @return bool
     */
    public function instance_allow_multiple() {
        return false;
    }

    /**
     * Builds the content. In a course, those who issue see the course's issuance counts and their pages; the
     * viewer's own credentials follow (for a teacher only when they hold some). On the Dashboard: My credentials.
     *
     * @return stdClass
     */
    public function get_content() {
        global $USER, $OUTPUT;
        if ($this->content !== null) {
            return $this->content;
        }
        $this->content = (object)['text' => '', 'footer' => ''];
        if (!isloggedin() || isguestuser()) {
            return $this->content;
        }
        $courseid = (int)$this->page->course->id;
        $incourse = $courseid !== (int)SITEID; // SITEID comes from the database as a string.
        $context = $incourse ? context_course::instance($courseid) : context_system::instance();
        $text = '';
        $teaching = false;
        if ($incourse) {
            $overview = new \block_edcissuer\output\course_overview($courseid,
                has_capability('block/edcissuer:managespec', $context), has_capability('block/edcissuer:issue', $context));
            if ($overview->has_content()) {
                $teaching = true;
                $text .= $OUTPUT->render_from_template('block_edcissuer/course_overview',
                    $overview->export_for_template($OUTPUT));
            }
        }
        if (has_capability('block/edcissuer:viewown', $context)) {
            $mine = (new \block_edcissuer\output\my_credentials((int)$USER->id, $incourse ? $courseid : null))
                ->export_for_template($OUTPUT);
            if (!$teaching || $mine['hascredentials']) {
                $text .= $OUTPUT->render_from_template('block_edcissuer/my_credentials', $mine);
            }
        }
        $this->content->text = $text;
        return $this->content;
    }
}
