<?php
// Moodle-free tests of the event the plugin sends to the sidecar.

use block_edcissuer\local\event_payload;
use PHPUnit\Framework\TestCase;

final class event_payload_test extends TestCase {
    /**
     * @return array the first vector of the shared file, whose body is a complete event
     */
    private static function completed_vector(): array {
        $path = BLOCK_EDCISSUER_REPO_ROOT . '/tests/vectors/intake-hmac-v1.json';
        return json_decode(file_get_contents($path), true, 512, JSON_THROW_ON_ERROR)['vectors'][0];
    }

    /**
     * @return array
     */
    private static function build_example(?int $requestedby = null, string $type = event_payload::TYPE_COMPLETED): array {
        return event_payload::build($type,
            ['id' => 'moodle-abc', 'url' => 'https://moodle.example.edu'],
            ['id' => '12', 'shortname' => 'DATA101', 'fullname' => 'Data literacy'],
            ['id' => 34, 'email' => 'learner@example.edu', 'given_names' => 'Ona', 'family_name' => 'Jonaitė', 'lang' => 'lt'],
            1795860000, $requestedby, 1795860000);
    }

    public function test_builds_the_exact_bytes_of_the_shared_vector(): void {
        $this->assertSame(self::completed_vector()['body'], event_payload::encode(self::build_example()));
    }

    public function test_event_id_is_repeatable_and_distinguishes_type_course_user_time(): void {
        $a = event_payload::event_id('s', event_payload::TYPE_COMPLETED, 1, 2, 3);
        $this->assertSame($a, event_payload::event_id('s', event_payload::TYPE_COMPLETED, 1, 2, 3));
        $others = [
            event_payload::event_id('s', event_payload::TYPE_REQUESTED, 1, 2, 3),
            event_payload::event_id('s', event_payload::TYPE_COMPLETED, 9, 2, 3),
            event_payload::event_id('s', event_payload::TYPE_COMPLETED, 1, 9, 3),
            event_payload::event_id('s', event_payload::TYPE_COMPLETED, 1, 2, 9),
            event_payload::event_id('t', event_payload::TYPE_COMPLETED, 1, 2, 3),
        ];
        foreach ($others as $other) {
            $this->assertNotSame($a, $other);
        }
    }

    public function test_teacher_request_carries_requester_and_no_completion(): void {
        $payload = event_payload::build(event_payload::TYPE_REQUESTED,
            ['id' => 's', 'url' => 'https://m.example'], ['id' => 5, 'shortname' => 'X', 'fullname' => 'Y'],
            ['id' => 6, 'email' => 'a@b.c', 'given_names' => 'A', 'family_name' => 'B', 'lang' => 'en_us'],
            null, 2, 1700000000);
        $this->assertSame('issue_requested', $payload['type']);
        $this->assertNull($payload['completed_at']);
        $this->assertSame(2, $payload['requested_by']);
        $this->assertSame('en', $payload['learner']['lang']);
        $this->assertSame('s:issue_requested:5:6:1700000000', $payload['event_id']);
        $this->assertStringContainsString('"completed_at":null', event_payload::encode($payload));
    }

    /**
     * @return array
     */
    public static function languages(): array {
        return [['lt', 'lt'], ['en_us', 'en'], ['pt_br', 'pt'], ['', 'en'], ['1x', 'en'], ['LT', 'lt']];
    }

    /**
     * @dataProvider languages
     */
    public function test_language_codes(string $moodle, string $iso): void {
        $this->assertSame($iso, event_payload::language($moodle));
    }

    public function test_missing_learner_email_is_named(): void {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('learner.email: missing or empty');
        event_payload::build(event_payload::TYPE_COMPLETED, ['id' => 's', 'url' => 'u'],
            ['id' => 1, 'shortname' => 'a', 'fullname' => 'b'],
            ['id' => 2, 'email' => '', 'given_names' => 'A', 'family_name' => 'B'], 1, null, 1);
    }

    public function test_unknown_type_is_refused(): void {
        $this->expectExceptionMessageMatches('/^type:/');
        self::build_example(null, 'graded');
    }

    public function test_slashes_and_unicode_are_not_escaped(): void {
        $json = event_payload::encode(self::build_example());
        $this->assertStringContainsString('https://moodle.example.edu', $json);
        $this->assertStringContainsString('Jonaitė', $json);
    }
}
