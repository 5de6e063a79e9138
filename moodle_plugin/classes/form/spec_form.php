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

namespace block_edcissuer\form;

use block_edcissuer\local\spec_mapper;

defined('MOODLE_INTERNAL') || die();

require_once($CFG->libdir . '/formslib.php');

/**
 * The course credential description form: every element of schemas/course-credential.schema.json, in en and lt.
 *
 * Field names follow spec_mapper's rule (JSON pointer parts joined by "_") so the sidecar's validation
 * errors can be shown next to the field they are about.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class spec_form extends \moodleform {
    /**
     * Defines the fields, grouped as the EU micro-credential elements are.
     */
    protected function definition() {
        $mform = $this->_form;
        $mform->addElement('hidden', 'courseid', $this->_customdata['courseid']);
        $mform->setType('courseid', PARAM_INT);

        $this->header('section_general', true);
        $mform->addElement('select', 'primary_language', get_string('primary_language', 'block_edcissuer'), self::languages());
        $mform->addHelpButton('primary_language', 'primary_language', 'block_edcissuer');
        $this->plain('code');
        $this->select('format', \block_edcissuer\local\formats::choices());
        $this->texts('title');
        $this->texts('description', true);
        $this->plain('homepage');
        $this->plain('valid_for');

        foreach (spec_mapper::ORGANISATIONS as $org) {
            $this->header('section_' . $org, $org !== 'provider');
            if ($org === 'awarding_body') {
                $mform->addElement('advcheckbox', 'awarding_body_same', get_string('awarding_body_same', 'block_edcissuer'));
            }
            $this->texts($org . '_name', false, 'org_name');
            $this->plain($org . '_legal_identifier', 'org_legal_identifier');
            $this->plain($org . '_vat_identifier', 'org_vat_identifier');
            $this->plain($org . '_country', 'org_country');
            $this->plain($org . '_region', 'org_region');
            $this->plain($org . '_homepage', 'org_homepage');
            $this->plain($org . '_email', 'org_email');
            $this->texts($org . '_address', true, 'org_address');
            if ($org === 'awarding_body') {
                foreach (spec_mapper::field_names() as $name) {
                    if (strpos($name, 'awarding_body_') === 0 && $name !== 'awarding_body_same') {
                        $mform->hideIf($name, 'awarding_body_same', 'checked');
                    }
                }
            }
        }

        $this->header('section_learning_outcomes', true);
        $repeat = [];
        foreach (spec_mapper::LANGUAGES as $lang) {
            $repeat[] = $mform->createElement('textarea', 'learning_outcomes_text_' . $lang,
                self::in_language(get_string('learning_outcomes_text', 'block_edcissuer'), $lang), ['rows' => 2, 'cols' => 60]);
        }
        $repeat[] = $mform->createElement('select', 'learning_outcomes_type', get_string('learning_outcomes_type', 'block_edcissuer'),
            self::choices('lotype', ['knowledge', 'skill', 'responsibility-autonomy']));
        $repeat[] = $mform->createElement('text', 'learning_outcomes_esco_skill',
            get_string('learning_outcomes_esco_skill', 'block_edcissuer'), ['size' => 60]);
        $options = ['learning_outcomes_esco_skill' => ['type' => PARAM_RAW_TRIMMED]];
        foreach (spec_mapper::LANGUAGES as $lang) {
            $options['learning_outcomes_text_' . $lang] = ['type' => PARAM_TEXT];
        }
        $this->repeat_elements($repeat, max(3, (int)($this->_customdata['outcomes'] ?? 0) + 1), $options,
            'learning_outcomes_count', 'learning_outcomes_add', 2, get_string('learning_outcomes_add', 'block_edcissuer'), true);

        $this->header('section_workload', true);
        $this->plain('workload_ects');
        $this->plain('workload_hours');
        $mform->addElement('select', 'eqf_level', get_string('eqf_level', 'block_edcissuer'),
            ['' => get_string('notset', 'block_edcissuer')] + array_combine(range(1, 8), range(1, 8)));
        $mform->addHelpButton('eqf_level', 'eqf_level', 'block_edcissuer');
        $this->select('qf_ehea_cycle', ['short', 'first', 'second', 'third']);
        $this->plain('isced_f');

        $this->header('section_assessment', true);
        $this->select('assessment_type', ['written-examination', 'oral-examination', 'practical-assessment',
            'continuous-evaluation', 'quiz', 'level-of-attendance']);
        $this->texts('assessment_description', true);
        $this->texts('assessment_grading_scheme');
        $this->select('supervision_and_identity_verification', ['none', 'supervised-no-id-verification',
            'supervised-with-id-verification', 'id-verification-only']);
        $this->texts('grading_scheme');

        $this->header('section_participation', true);
        $this->select('participation_mode', ['online', 'onsite', 'blended']);
        $this->texts('participation_description', true);
        $this->texts('prerequisites', true);

        $this->header('section_quality_assurance', true);
        $this->texts('quality_assurance_type');
        $this->texts('quality_assurance_body');
        $this->plain('quality_assurance_url');

        $this->header('section_more', false);
        $this->select('stackability_kind', ['stand-alone', 'integrated', 'stackable']);
        $this->texts('stackability_towards');
        $this->texts('further_information', true);

        // What Europass's course register needs beyond a credential (the provider is its own section above).
        $this->header('section_europass', false);
        $this->_form->addElement('static', 'europass_intro', '', get_string('europass_intro', 'block_edcissuer'));
        $this->select('learning_opportunity_type', ['course', 'mooc', 'short-learning-programme', 'programme-module',
            'educational-programme', 'class', 'internship', 'apprenticeship', 'mentoring', 'study-visit', 'service-learning',
            'thesis']);
        foreach (['start_date', 'end_date', 'application_deadline', 'duration'] as $field) {
            $this->plain('learning_opportunity_' . $field);
        }
        $this->select('learning_opportunity_schedule', ['full-time', 'part-time-intensive', 'part-time-light']);
        $this->select('learning_opportunity_setting', ['formal', 'non-formal']);
        $this->plain('learning_opportunity_price_amount');
        $this->plain('learning_opportunity_price_currency');
        $this->texts('learning_opportunity_price_description');
        $this->texts('learning_opportunity_admission_procedure', true);
        $this->texts('learning_opportunity_schedule_information');
        $this->texts('learning_opportunity_location_address', false, 'org_address');
        $this->plain('learning_opportunity_location_country', 'org_country');
        $this->plain('learning_opportunity_location_region', 'org_region');

        $this->add_action_buttons(true, get_string('savesend', 'block_edcissuer'));
    }

    /**
     * Shows the sidecar's validation errors next to their fields.
     *
     * @param array $errors [['pointer' => '/eqf_level', 'message' => '...'], ...]
     * @param array $data the submitted data (to place learning outcome errors on the right row)
     * @return string[] errors that belong to no single field, as "pointer: message"
     */
    public function set_sidecar_errors(array $errors, array $data): array {
        $general = [];
        $byfield = [];
        foreach ($errors as $error) {
            $pointer = (string)($error['pointer'] ?? '');
            $message = (string)($error['message'] ?? '');
            $field = spec_mapper::field_for_pointer($pointer, $data);
            if ($field !== null && $this->_form->elementExists($field)) {
                $byfield[$field][] = $message;
            } else {
                $general[] = trim($pointer . ': ' . $message, ': ');
            }
        }
        foreach ($byfield as $field => $messages) {
            $this->_form->setElementError($field, s(implode(' ', $messages)));
        }
        return $general;
    }

    /**
     * @param string $name section name (lang string)
     * @param bool $expanded
     */
    private function header(string $name, bool $expanded): void {
        $this->_form->addElement('header', $name, get_string($name, 'block_edcissuer'));
        $this->_form->setExpanded($name, $expanded);
    }

    /**
     * A plain text field, kept raw so the sidecar judges it.
     *
     * @param string $name field name
     * @param string|null $label lang string of the label, default the field name
     */
    private function plain(string $name, ?string $label = null): void {
        $this->_form->addElement('text', $name, get_string($label ?? $name, 'block_edcissuer'), ['size' => 40]);
        $this->_form->setType($name, PARAM_RAW_TRIMMED);
    }

    /**
     * One field per language.
     *
     * @param string $name field name without the language suffix
     * @param bool $long textarea instead of a line
     * @param string|null $label lang string of the label, default the field name
     */
    private function texts(string $name, bool $long = false, ?string $label = null): void {
        foreach (spec_mapper::LANGUAGES as $lang) {
            $text = self::in_language(get_string($label ?? $name, 'block_edcissuer'), $lang);
            if ($long) {
                $this->_form->addElement('textarea', $name . '_' . $lang, $text, ['rows' => 3, 'cols' => 60]);
            } else {
                $this->_form->addElement('text', $name . '_' . $lang, $text, ['size' => 60]);
            }
            $this->_form->setType($name . '_' . $lang, PARAM_TEXT);
        }
    }

    /**
     * A choice from the schema's list.
     *
     * @param string $name field name (and lang string prefix of the choices)
     * @param string[] $values
     */
    private function select(string $name, array $values): void {
        $this->_form->addElement('select', $name, get_string($name, 'block_edcissuer'), self::choices($name, $values));
    }

    /**
     * @param string $prefix lang string prefix
     * @param string[] $values
     * @return array value => label, with "not set" first
     */
    private static function choices(string $prefix, array $values): array {
        $choices = ['' => get_string('notset', 'block_edcissuer')];
        foreach ($values as $value) {
            $choices[$value] = get_string($prefix . '_' . str_replace('-', '', $value), 'block_edcissuer');
        }
        return $choices;
    }

    /**
     * @return array language code => name
     */
    private static function languages(): array {
        $names = [];
        foreach (spec_mapper::LANGUAGES as $lang) {
            $names[$lang] = get_string('lang_' . $lang, 'block_edcissuer');
        }
        return $names;
    }

    /**
     * @param string $label
     * @param string $lang
     * @return string "Title (Lithuanian)"
     */
    private static function in_language(string $label, string $lang): string {
        return get_string('inlanguage', 'block_edcissuer', (object)['label' => $label,
            'language' => get_string('lang_' . $lang, 'block_edcissuer')]);
    }
}
