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

namespace block_edcissuer\local;

/**
 * Turns the course credential form's flat fields into the sidecar's course description JSON
 * (schemas/course-credential.schema.json) and back, and maps the sidecar's JSON-pointer errors to fields.
 *
 * Field names follow the pointers: "/issuer/legal_identifier" is the field "issuer_legal_identifier",
 * "/title/lt" is "title_lt", "/learning_outcomes/2/text/en" is "learning_outcomes_text_en[2]". That one rule
 * is what lets a validation error from the sidecar land next to the field it is about.
 *
 * @package    block_edcissuer
 * @copyright  2026 The EDC issuer project
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class spec_mapper {
    /** @var string[] languages the form offers texts in */
    public const LANGUAGES = ['en', 'lt'];

    /** @var string[] multilingual texts at the top level */
    public const TOP_TEXTS = ['title', 'description', 'prerequisites', 'further_information'];

    /** @var string[] plain strings at the top level */
    public const TOP_STRINGS = ['code', 'format', 'qf_ehea_cycle', 'isced_f', 'supervision_and_identity_verification', 'homepage',
        'valid_for'];

    /** @var string[] the organisations (provider: Europass's, only when it is not the issuer) */
    public const ORGANISATIONS = ['issuer', 'awarding_body', 'provider'];

    /** @var string[] plain strings of an organisation */
    public const ORG_STRINGS = ['legal_identifier', 'vat_identifier', 'country', 'region', 'homepage', 'email'];

    /** @var string[] texts of an organisation */
    public const ORG_TEXTS = ['name', 'address'];

    /**
     * Objects made of one required plain value plus texts: object => [plain strings, texts].
     * workload is numeric and handled apart.
     */
    public const OBJECTS = [
        'assessment' => [['type'], ['description', 'grading_scheme']],
        'participation' => [['mode'], ['description']],
        'quality_assurance' => [['url'], ['type', 'body']],
        'grading' => [[], ['scheme']],
        'stackability' => [['kind'], ['towards']],
    ];

    /**
     * Europass's course facts (the description's learning_opportunity): JSON path => [plain strings, texts,
     * numbers]. Fields are named by the path joined with "_", e.g. learning_opportunity_price_amount.
     */
    public const NESTED = [
        'learning_opportunity' => [['type', 'start_date', 'end_date', 'application_deadline', 'duration', 'schedule',
            'setting'], ['admission_procedure', 'schedule_information'], []],
        'learning_opportunity/price' => [['currency'], ['description'], ['amount']],
        'learning_opportunity/location' => [['country', 'region'], ['address'], []],
    ];

    /** @var array<string,string> the field an error about a whole object is shown at ({lang} = primary) */
    private const OBJECT_ANCHORS = [
        'title' => 'title_{lang}',
        'description' => 'description_{lang}',
        'prerequisites' => 'prerequisites_{lang}',
        'further_information' => 'further_information_{lang}',
        'issuer' => 'issuer_name_{lang}',
        'awarding_body' => 'awarding_body_name_{lang}',
        'provider' => 'provider_name_{lang}',
        'learning_opportunity' => 'learning_opportunity_type',
        'workload' => 'workload_ects',
        'assessment' => 'assessment_type',
        'participation' => 'participation_mode',
        'quality_assurance' => 'quality_assurance_type_{lang}',
        'grading' => 'grading_scheme_{lang}',
        'stackability' => 'stackability_kind',
        'learning_outcomes' => 'learning_outcomes_text_{lang}[0]',
        'languages' => 'primary_language',
        'schema_version' => 'primary_language',
    ];

    /**
     * Builds the course description from submitted form data.
     *
     * Empty fields are left out rather than sent empty, so the sidecar names a missing mandatory element
     * as missing instead of as malformed.
     *
     * @param array $data form data (arrays for the repeated learning outcome fields)
     * @return array the description, ready for json_encode
     */
    public static function to_spec(array $data): array {
        $primary = self::clean($data['primary_language'] ?? '') ?: self::LANGUAGES[0];
        $spec = ['schema_version' => 1, 'primary_language' => $primary];
        $titlelangs = array_keys(self::texts($data, 'title'));
        $spec['languages'] = $titlelangs ?: [$primary];
        foreach (self::TOP_STRINGS as $name) {
            if (($value = self::clean($data[$name] ?? '')) !== '') {
                $spec[$name] = $value;
            }
        }
        if (isset($spec['format'])) {
            $spec['format'] = formats::to_spec($spec['format']); // "both": the two EDC formats
        }
        foreach (self::TOP_TEXTS as $name) {
            if ($texts = self::texts($data, $name)) {
                $spec[$name] = $texts;
            }
        }
        foreach (self::ORGANISATIONS as $org) {
            $source = ($org === 'awarding_body' && !empty($data['awarding_body_same'])) ? 'issuer' : $org;
            if ($organisation = self::organisation($data, $source)) {
                $spec[$org] = $organisation;
            }
        }
        if ($outcomes = self::learning_outcomes($data)[0]) {
            $spec['learning_outcomes'] = $outcomes;
        }
        if ($workload = self::workload($data)) {
            $spec['workload'] = $workload;
        }
        if (($eqf = self::clean($data['eqf_level'] ?? '')) !== '') {
            $spec['eqf_level'] = ctype_digit($eqf) ? (int)$eqf : $eqf;
        }
        foreach (self::OBJECTS as $name => [$plain, $texts]) {
            $object = [];
            foreach ($plain as $field) {
                if (($value = self::clean($data[$name . '_' . $field] ?? '')) !== '') {
                    $object[$field] = $value;
                }
            }
            foreach ($texts as $field) {
                if ($value = self::texts($data, $name . '_' . $field)) {
                    $object[$field] = $value;
                }
            }
            if ($object) {
                $spec[$name] = $object;
            }
        }
        foreach (self::NESTED as $path => [$plain, $texts, $numbers]) {
            if ($object = self::nested_object($data, str_replace('/', '_', $path), $plain, $texts, $numbers)) {
                $node = &$spec;
                foreach (explode('/', $path) as $part) {
                    $node[$part] = isset($node[$part]) && is_array($node[$part]) ? $node[$part] : [];
                    $node = &$node[$part];
                }
                $node = array_merge($node, $object);
                unset($node);
            }
        }
        return $spec;
    }

    /**
     * The inverse of to_spec(): flat form defaults from a stored description.
     *
     * @param array $spec decoded course description
     * @return array form data, with 'learning_outcomes_count' for the repeat count
     */
    public static function to_form(array $spec): array {
        $data = ['primary_language' => $spec['primary_language'] ?? self::LANGUAGES[0]];
        foreach (self::TOP_STRINGS as $name) {
            if (isset($spec[$name])) {
                $data[$name] = $name === 'format' ? formats::to_form($spec[$name]) : (string)$spec[$name];
            }
        }
        foreach (self::TOP_TEXTS as $name) {
            $data += self::flatten_texts($spec[$name] ?? [], $name);
        }
        foreach (self::ORGANISATIONS as $org) {
            $organisation = $spec[$org] ?? [];
            foreach (self::ORG_STRINGS as $field) {
                if (isset($organisation[$field])) {
                    $data[$org . '_' . $field] = (string)$organisation[$field];
                }
            }
            foreach (self::ORG_TEXTS as $field) {
                $data += self::flatten_texts($organisation[$field] ?? [], $org . '_' . $field);
            }
        }
        $data['awarding_body_same'] = isset($spec['issuer'], $spec['awarding_body'])
            && $spec['issuer'] == $spec['awarding_body'] ? 1 : 0;
        $outcomes = array_values($spec['learning_outcomes'] ?? []);
        foreach ($outcomes as $i => $outcome) {
            foreach (self::LANGUAGES as $lang) {
                $data['learning_outcomes_text_' . $lang][$i] = (string)($outcome['text'][$lang] ?? '');
            }
            $data['learning_outcomes_type'][$i] = (string)($outcome['type'] ?? '');
            $data['learning_outcomes_esco_skill'][$i] = (string)($outcome['esco_skill'] ?? '');
        }
        $data['learning_outcomes_count'] = count($outcomes);
        foreach (['ects', 'hours'] as $field) {
            if (isset($spec['workload'][$field])) {
                $data['workload_' . $field] = (string)$spec['workload'][$field];
            }
        }
        if (isset($spec['eqf_level'])) {
            $data['eqf_level'] = (string)$spec['eqf_level'];
        }
        foreach (self::OBJECTS as $name => [$plain, $texts]) {
            foreach ($plain as $field) {
                if (isset($spec[$name][$field])) {
                    $data[$name . '_' . $field] = (string)$spec[$name][$field];
                }
            }
            foreach ($texts as $field) {
                $data += self::flatten_texts($spec[$name][$field] ?? [], $name . '_' . $field);
            }
        }
        foreach (self::NESTED as $path => [$plain, $texts, $numbers]) {
            $object = $spec;
            foreach (explode('/', $path) as $part) {
                $object = is_array($object[$part] ?? null) ? $object[$part] : [];
            }
            $prefix = str_replace('/', '_', $path);
            foreach (array_merge($plain, $numbers) as $field) {
                if (isset($object[$field]) && !is_array($object[$field])) {
                    $data[$prefix . '_' . $field] = (string)$object[$field];
                }
            }
            foreach ($texts as $field) {
                $data += self::flatten_texts($object[$field] ?? [], $prefix . '_' . $field);
            }
        }
        return $data;
    }

    /**
     * Every form field name the mapper knows (learning outcomes as their base names).
     *
     * @return string[]
     */
    public static function field_names(): array {
        $names = ['primary_language', 'awarding_body_same', 'workload_ects', 'workload_hours', 'eqf_level'];
        $names = array_merge($names, self::TOP_STRINGS);
        foreach (self::TOP_TEXTS as $name) {
            $names = array_merge($names, self::lang_names($name));
        }
        foreach (self::ORGANISATIONS as $org) {
            foreach (self::ORG_STRINGS as $field) {
                $names[] = $org . '_' . $field;
            }
            foreach (self::ORG_TEXTS as $field) {
                $names = array_merge($names, self::lang_names($org . '_' . $field));
            }
        }
        foreach (self::OBJECTS as $name => [$plain, $texts]) {
            foreach ($plain as $field) {
                $names[] = $name . '_' . $field;
            }
            foreach ($texts as $field) {
                $names = array_merge($names, self::lang_names($name . '_' . $field));
            }
        }
        foreach (self::NESTED as $path => [$plain, $texts, $numbers]) {
            $prefix = str_replace('/', '_', $path);
            foreach (array_merge($plain, $numbers) as $field) {
                $names[] = $prefix . '_' . $field;
            }
            foreach ($texts as $field) {
                $names = array_merge($names, self::lang_names($prefix . '_' . $field));
            }
        }
        $names = array_merge($names, self::lang_names('learning_outcomes_text'),
            ['learning_outcomes_type', 'learning_outcomes_esco_skill']);
        return $names;
    }

    /**
     * The form field a sidecar error pointer is about, or null when it is about the whole document.
     *
     * @param string $pointer JSON pointer into the description, e.g. "/issuer/country"
     * @param array $data the submitted form data (to map learning outcome positions back to form rows)
     * @return string|null e.g. "issuer_country", "learning_outcomes_text_en[3]"
     */
    public static function field_for_pointer(string $pointer, array $data): ?string {
        $parts = array_map(static function(string $part): string {
            return str_replace(['~1', '~0'], ['/', '~'], $part);
        }, explode('/', ltrim($pointer, '/')));
        if ($parts === [''] || $parts === []) {
            return null;
        }
        $primary = self::clean($data['primary_language'] ?? '') ?: self::LANGUAGES[0];
        if ($parts[0] === 'learning_outcomes' && isset($parts[1]) && ctype_digit($parts[1])) {
            $rows = self::learning_outcomes($data)[1];
            $row = $rows[(int)$parts[1]] ?? 0;
            $field = $parts[2] ?? 'text';
            $name = 'learning_outcomes_' . $field;
            if ($field === 'text') {
                $lang = in_array($parts[3] ?? '', self::LANGUAGES, true) ? $parts[3] : $primary;
                $name .= '_' . $lang;
            }
            return in_array($name, self::field_names(), true) ? $name . '[' . $row . ']' : null;
        }
        if ($parts[0] === 'awarding_body' && !empty($data['awarding_body_same'])) {
            return 'awarding_body_same';
        }
        $name = implode('_', $parts);
        if (in_array($name, self::field_names(), true)) {
            return $name;
        }
        // A text object or a whole object: anchor at its primary-language or main field.
        $withlang = $name . '_' . $primary;
        if (in_array($withlang, self::field_names(), true)) {
            return $withlang;
        }
        if (count($parts) === 1 && isset(self::OBJECT_ANCHORS[$parts[0]])) {
            return str_replace('{lang}', $primary, self::OBJECT_ANCHORS[$parts[0]]);
        }
        return null;
    }

    /**
     * Reads the sidecar's answer to a description PUT: accepted, or the problems it found.
     *
     * The sidecar stores drafts too and answers 200 with {"valid": true|false, "problems": [...]}; a request
     * it cannot read (bad site, course or JSON) is 400 with its error shape {"error", "problems": [...]}.
     * Nothing else is a verdict on the description.
     *
     * @param int $code HTTP status
     * @param array $answer decoded JSON body
     * @return array|null null when accepted; else the problems, each ['pointer' => ..., 'message' => ...]
     * @throws \UnexpectedValueException for any other answer (the description did not get through)
     */
    public static function problems_from_answer(int $code, array $answer): ?array {
        $problems = is_array($answer['problems'] ?? null) ? array_values(array_filter($answer['problems'], 'is_array')) : [];
        if ($code === 200 && is_bool($answer['valid'] ?? null)) {
            if ($answer['valid']) {
                return null;
            }
            return $problems ?: [['pointer' => '', 'message' => 'the sidecar reports the description as incomplete']];
        }
        if ($code === 400) {
            return $problems ?: [['pointer' => '', 'message' => 'HTTP 400']];
        }
        throw new \UnexpectedValueException('HTTP ' . $code);
    }

    /**
     * @param array $data form data
     * @param string $prefix organisation field prefix
     * @return array the organisation, empty if nothing was filled in
     */
    private static function organisation(array $data, string $prefix): array {
        $org = [];
        if ($name = self::texts($data, $prefix . '_name')) {
            $org['name'] = $name;
        }
        foreach (self::ORG_STRINGS as $field) {
            if (($value = self::clean($data[$prefix . '_' . $field] ?? '')) !== '') {
                $org[$field] = $field === 'country' ? strtoupper($value) : $value;
            }
        }
        if ($address = self::texts($data, $prefix . '_address')) {
            $org['address'] = $address;
        }
        return $org;
    }

    /**
     * One of the NESTED objects from the form, codes upper-cased and numbers made numbers where they are.
     *
     * @param array $data form data
     * @param string $prefix field name prefix
     * @param string[] $plain plain strings
     * @param string[] $texts multilingual texts
     * @param string[] $numbers numbers (else the text, for the sidecar to name)
     * @return array the object, empty if nothing was filled in
     */
    private static function nested_object(array $data, string $prefix, array $plain, array $texts, array $numbers): array {
        $object = [];
        foreach ($plain as $field) {
            if (($value = self::clean($data[$prefix . '_' . $field] ?? '')) !== '') {
                $object[$field] = in_array($field, ['country', 'currency'], true) ? strtoupper($value) : $value;
            }
        }
        foreach ($numbers as $field) {
            $value = str_replace(',', '.', self::clean($data[$prefix . '_' . $field] ?? ''));
            if ($value !== '') {
                $object[$field] = is_numeric($value) ? $value + 0 : $value;
            }
        }
        foreach ($texts as $field) {
            if ($value = self::texts($data, $prefix . '_' . $field)) {
                $object[$field] = $value;
            }
        }
        return $object;
    }

    /**
     * Learning outcomes from the repeated rows, skipping empty rows.
     *
     * @param array $data form data
     * @return array [outcomes, map from outcome position to form row]
     */
    private static function learning_outcomes(array $data): array {
        $rows = [];
        foreach (self::LANGUAGES as $lang) {
            $rows += (array)($data['learning_outcomes_text_' . $lang] ?? []);
        }
        $rows += (array)($data['learning_outcomes_type'] ?? []) + (array)($data['learning_outcomes_esco_skill'] ?? []);
        $indexes = array_keys($rows);
        sort($indexes);
        $outcomes = [];
        $map = [];
        foreach ($indexes as $row) {
            $outcome = [];
            $text = [];
            foreach (self::LANGUAGES as $lang) {
                $value = self::clean($data['learning_outcomes_text_' . $lang][$row] ?? '');
                if ($value !== '') {
                    $text[$lang] = $value;
                }
            }
            if ($text) {
                $outcome['text'] = $text;
            }
            foreach (['type', 'esco_skill'] as $field) {
                if (($value = self::clean($data['learning_outcomes_' . $field][$row] ?? '')) !== '') {
                    $outcome[$field] = $value;
                }
            }
            if ($outcome) {
                $map[count($outcomes)] = $row;
                $outcomes[] = $outcome;
            }
        }
        return [$outcomes, $map];
    }

    /**
     * @param array $data form data
     * @return array workload, numbers where the input is numeric (else the text, for the sidecar to name)
     */
    private static function workload(array $data): array {
        $workload = [];
        $ects = str_replace(',', '.', self::clean($data['workload_ects'] ?? ''));
        if ($ects !== '') {
            $workload['ects'] = is_numeric($ects) ? (float)$ects : $ects;
        }
        $hours = self::clean($data['workload_hours'] ?? '');
        if ($hours !== '') {
            $workload['hours'] = ctype_digit($hours) ? (int)$hours : $hours;
        }
        return $workload;
    }

    /**
     * @param array $data form data
     * @param string $prefix field name without the language suffix
     * @return array<string,string> language => text, only the filled ones
     */
    private static function texts(array $data, string $prefix): array {
        $texts = [];
        foreach (self::LANGUAGES as $lang) {
            $value = self::clean($data[$prefix . '_' . $lang] ?? '');
            if ($value !== '') {
                $texts[$lang] = $value;
            }
        }
        return $texts;
    }

    /**
     * @param array $texts language => text
     * @param string $prefix field name without the language suffix
     * @return array
     */
    private static function flatten_texts($texts, string $prefix): array {
        $data = [];
        foreach (self::LANGUAGES as $lang) {
            if (is_array($texts) && isset($texts[$lang])) {
                $data[$prefix . '_' . $lang] = (string)$texts[$lang];
            }
        }
        return $data;
    }

    /**
     * @param string $prefix
     * @return string[]
     */
    private static function lang_names(string $prefix): array {
        return array_map(static fn(string $lang): string => $prefix . '_' . $lang, self::LANGUAGES);
    }

    /**
     * @param mixed $value
     * @return string trimmed text; '' for anything that is not a scalar
     */
    private static function clean($value): string {
        return is_scalar($value) ? trim((string)$value) : '';
    }
}
