<?php
// Moodle-free tests of the course credential form mapping, using the five pilot course descriptions.

use block_edcissuer\local\spec_mapper;
use PHPUnit\Framework\TestCase;

final class spec_mapper_test extends TestCase {
    /**
     * @return array
     */
    public static function pilot_courses(): array {
        $cases = [];
        foreach (glob(BLOCK_EDCISSUER_REPO_ROOT . '/examples/pilot/courses/*.json') as $file) {
            $cases[basename($file)] = [json_decode(file_get_contents($file), true, 512, JSON_THROW_ON_ERROR)];
        }
        return $cases;
    }

    /**
     * @param mixed $value
     * @return mixed with every object's keys sorted
     */
    private static function sorted($value) {
        if (!is_array($value)) {
            return $value;
        }
        if (array_keys($value) !== range(0, count($value) - 1)) {
            ksort($value);
        }
        return array_map([self::class, 'sorted'], $value);
    }

    public function test_there_are_pilot_courses(): void {
        $this->assertCount(5, self::pilot_courses());
    }

    /**
     * @dataProvider pilot_courses
     */
    public function test_every_element_survives_the_form(array $spec): void {
        $form = spec_mapper::to_form($spec);
        $this->assertEquals(self::sorted($spec), self::sorted(spec_mapper::to_spec($form)));
    }

    /**
     * @dataProvider pilot_courses
     */
    public function test_every_form_field_of_a_pilot_course_is_a_known_field(array $spec): void {
        $known = spec_mapper::field_names();
        foreach (array_keys(spec_mapper::to_form($spec)) as $name) {
            if ($name === 'learning_outcomes_count') {
                continue;
            }
            $this->assertContains($name, $known);
        }
    }

    public function test_every_schema_property_has_a_field(): void {
        $schema = json_decode(file_get_contents(BLOCK_EDCISSUER_REPO_ROOT . '/schemas/course-credential.schema.json'),
            true, 512, JSON_THROW_ON_ERROR);
        $known = spec_mapper::field_names();
        $derived = ['schema_version', 'languages'];
        foreach ($schema['properties'] as $name => $property) {
            if (in_array($name, $derived, true)) {
                continue;
            }
            $sub = $property['properties'] ?? null;
            if ($sub === null && isset($property['$ref']) && $property['$ref'] === '#/$defs/organisation') {
                $sub = $schema['$defs']['organisation']['properties'];
            }
            if ($name === 'learning_outcomes') {
                $sub = $property['items']['properties'];
            }
            $names = $sub === null ? [$name] : array_map(fn($s) => $name . '_' . $s, array_keys($sub));
            foreach ($sub ?? [] as $subname => $subproperty) {  // one level deeper: learning_opportunity/price/...
                if (isset($subproperty['properties'])) {
                    $names = array_diff($names, [$name . '_' . $subname]);
                    foreach (array_keys($subproperty['properties']) as $leaf) {
                        $names[] = $name . '_' . $subname . '_' . $leaf;
                    }
                }
            }
            foreach ($names as $field) {
                $this->assertTrue(in_array($field, $known, true) || in_array($field . '_en', $known, true)
                    && in_array($field . '_lt', $known, true), "no form field for $field");
            }
        }
    }

    public function test_empty_fields_are_left_out(): void {
        $spec = spec_mapper::to_spec(['primary_language' => 'lt', 'title_lt' => ' Duomenys ', 'title_en' => '',
            'issuer_country' => 'ltu', 'workload_ects' => '2,5', 'eqf_level' => '6',
            'learning_outcomes_text_en' => [0 => '', 1 => 'Reads data'], 'learning_outcomes_text_lt' => [0 => '', 1 => ''],
            'learning_outcomes_type' => [0 => '', 1 => 'skill']]);
        $this->assertSame(['lt' => 'Duomenys'], $spec['title']);
        $this->assertSame(['lt'], $spec['languages']);
        $this->assertSame(['country' => 'LTU'], $spec['issuer']);
        $this->assertSame(2.5, $spec['workload']['ects']);
        $this->assertSame(6, $spec['eqf_level']);
        $this->assertSame([['text' => ['en' => 'Reads data'], 'type' => 'skill']], $spec['learning_outcomes']);
        $this->assertArrayNotHasKey('description', $spec);
        $this->assertArrayNotHasKey('assessment', $spec);
    }

    public function test_non_numbers_are_passed_on_for_the_sidecar_to_name(): void {
        $spec = spec_mapper::to_spec(['workload_ects' => 'five', 'eqf_level' => 'six']);
        $this->assertSame('five', $spec['workload']['ects']);
        $this->assertSame('six', $spec['eqf_level']);
    }

    public function test_europass_fields_survive_the_form_and_errors_find_their_field(): void {
        $spec = json_decode(file_get_contents(BLOCK_EDCISSUER_REPO_ROOT . '/examples/pilot/courses/green310.json'), true);
        $spec['provider'] = ['name' => ['en' => 'Energy Lab', 'lt' => 'Energijos laboratorija'],
            'legal_identifier' => 'LT-JAR-305123456', 'country' => 'LTU'];
        $spec['learning_opportunity'] = ['type' => 'short-learning-programme', 'start_date' => '2026-09-01',
            'end_date' => '2026-12-20', 'duration' => 'P112D', 'schedule' => 'part-time-light', 'setting' => 'formal',
            'price' => ['amount' => 450.5, 'currency' => 'EUR', 'description' => ['en' => 'Scholarships']],
            'admission_procedure' => ['en' => 'Apply online', 'lt' => 'Registruokitės internetu'],
            'location' => ['country' => 'LTU', 'region' => 'LT011', 'address' => ['en' => 'Campus 1']]];
        $form = spec_mapper::to_form($spec);
        $this->assertSame('450.5', $form['learning_opportunity_price_amount']);
        $this->assertEquals(self::sorted($spec), self::sorted(spec_mapper::to_spec($form)));
        $this->assertSame('learning_opportunity_price_currency',
            spec_mapper::field_for_pointer('/learning_opportunity/price/currency', $form));
        $this->assertSame('learning_opportunity_end_date', spec_mapper::field_for_pointer('/learning_opportunity/end_date', $form));
        $this->assertSame('provider_country', spec_mapper::field_for_pointer('/provider/country', $form));
        $this->assertSame('homepage', spec_mapper::field_for_pointer('/homepage', $form));
        $this->assertSame('isced_f', spec_mapper::field_for_pointer('/isced_f', $form));
        $none = spec_mapper::to_spec(['title_en' => 'T', 'learning_opportunity_price_currency' => 'eur']);
        $this->assertSame(['price' => ['currency' => 'EUR']], $none['learning_opportunity']);
        $this->assertArrayNotHasKey('provider', $none);
    }

    public function test_awarding_body_same_as_issuer(): void {
        $spec = spec_mapper::to_spec(['issuer_name_en' => 'Uni', 'issuer_country' => 'LTU',
            'awarding_body_same' => 1, 'awarding_body_name_en' => 'ignored']);
        $this->assertSame($spec['issuer'], $spec['awarding_body']);
        $this->assertSame('awarding_body_same', spec_mapper::field_for_pointer('/awarding_body/country',
            ['awarding_body_same' => 1]));
    }

    /**
     * @return array
     */
    public static function pointers(): array {
        return [
            'plain' => ['/eqf_level', 'eqf_level'],
            'organisation field' => ['/issuer/country', 'issuer_country'],
            'text in a language' => ['/title/lt', 'title_lt'],
            'whole text' => ['/title', 'title_lt'],
            'whole organisation' => ['/issuer', 'issuer_name_lt'],
            'organisation text' => ['/awarding_body/name', 'awarding_body_name_lt'],
            'object member text' => ['/quality_assurance/type', 'quality_assurance_type_lt'],
            'object' => ['/workload', 'workload_ects'],
            'number in object' => ['/workload/ects', 'workload_ects'],
            'outcome text, compacted row' => ['/learning_outcomes/1/text/en', 'learning_outcomes_text_en[3]'],
            'outcome esco' => ['/learning_outcomes/0/esco_skill', 'learning_outcomes_esco_skill[1]'],
            'outcomes list' => ['/learning_outcomes', 'learning_outcomes_text_lt[0]'],
            'format the site does not issue' => ['/format', 'format'],
            'root' => ['', null],
            'unknown' => ['/colour', null],
            'unknown outcome member' => ['/learning_outcomes/0/colour', null],
        ];
    }

    /**
     * @dataProvider pointers
     */
    public function test_pointer_to_field(string $pointer, ?string $field): void {
        // Rows 0 and 2 are empty, so outcome 0 is form row 1 and outcome 1 is form row 3.
        $data = ['primary_language' => 'lt',
            'learning_outcomes_text_en' => [0 => '', 1 => 'A', 2 => '', 3 => 'B'],
            'learning_outcomes_esco_skill' => [0 => '', 1 => 'x', 2 => '', 3 => '']];
        $this->assertSame($field, spec_mapper::field_for_pointer($pointer, $data));
    }

    public function test_sidecar_answers(): void {
        $problem = ['pointer' => '/eqf_level', 'message' => 'missing mandatory element'];
        $this->assertNull(spec_mapper::problems_from_answer(200, ['valid' => true, 'problems' => []]));
        $this->assertSame([$problem], spec_mapper::problems_from_answer(200, ['valid' => false, 'problems' => [$problem]]));
        $this->assertSame([$problem], spec_mapper::problems_from_answer(400, ['error' => 'bad', 'problems' => [$problem]]));
        $this->assertSame('HTTP 400', spec_mapper::problems_from_answer(400, [])[0]['message']);
        $this->assertCount(1, spec_mapper::problems_from_answer(200, ['valid' => false]));
    }

    /**
     * One contract: answers the sidecar never gives (old guesses: 422 with "errors", 201, no verdict) are
     * not read as a verdict on the description.
     *
     * @dataProvider never_answered
     */
    public function test_answers_the_sidecar_never_gives_are_not_a_verdict(int $code, array $answer): void {
        $this->expectException(UnexpectedValueException::class);
        spec_mapper::problems_from_answer($code, $answer);
    }

    public static function never_answered(): array {
        $problem = ['pointer' => '/eqf_level', 'message' => 'missing mandatory element'];
        return [[422, ['errors' => [$problem]]], [201, []], [200, []], [200, ['valid' => 'no']], [503, ['error' => 'down']]];
    }
}
