<?php
// Moodle-free tests of the request signature against the shared vectors (tests/vectors/intake-hmac-v1.json),
// the same file the sidecar's Python tests read.

use block_edcissuer\local\request_signer;
use PHPUnit\Framework\TestCase;

final class request_signer_test extends TestCase {
    /**
     * @return array
     */
    private static function vector_file(): array {
        $path = BLOCK_EDCISSUER_REPO_ROOT . '/tests/vectors/intake-hmac-v1.json';
        return json_decode(file_get_contents($path), true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * @return array
     */
    public static function vectors(): array {
        $cases = [];
        foreach (self::vector_file()['vectors'] as $vector) {
            $cases[$vector['name']] = [$vector];
        }
        return $cases;
    }

    public function test_vector_file_has_cases(): void {
        $this->assertGreaterThanOrEqual(3, count(self::vector_file()['vectors']));
    }

    /**
     * @dataProvider vectors
     */
    public function test_canonical_string_matches_vector(array $v): void {
        $this->assertSame($v['body_sha256'], hash('sha256', $v['body']));
        $this->assertSame($v['canonical'],
            request_signer::canonical($v['method'], $v['path'], (string)$v['timestamp'], $v['nonce'], $v['body']));
    }

    /**
     * @dataProvider vectors
     */
    public function test_signature_matches_vector(array $v): void {
        $signer = new request_signer($v['key_id'], $v['secret']);
        $this->assertSame($v['signature'], $signer->signature($v['method'], $v['path'], $v['timestamp'], $v['nonce'], $v['body']));
    }

    /**
     * @dataProvider vectors
     */
    public function test_headers_carry_the_vector_values(array $v): void {
        $names = self::vector_file()['headers'];
        $signer = new request_signer($v['key_id'], $v['secret']);
        $headers = $signer->headers($v['method'], $v['path'], $v['body'], $v['timestamp'], $v['nonce']);
        $this->assertSame([
            $names['key_id'] . ': ' . $v['key_id'],
            $names['timestamp'] . ': ' . $v['timestamp'],
            $names['nonce'] . ': ' . $v['nonce'],
            $names['signature'] . ': ' . $v['signature'],
        ], $headers);
    }

    public function test_any_change_changes_the_signature(): void {
        $v = self::vector_file()['vectors'][0];
        $signer = new request_signer($v['key_id'], $v['secret']);
        $base = $signer->signature($v['method'], $v['path'], $v['timestamp'], $v['nonce'], $v['body']);
        $this->assertNotSame($base, $signer->signature('PUT', $v['path'], $v['timestamp'], $v['nonce'], $v['body']));
        $this->assertNotSame($base, $signer->signature($v['method'], '/api/v1/event', $v['timestamp'], $v['nonce'], $v['body']));
        $this->assertNotSame($base, $signer->signature($v['method'], $v['path'], $v['timestamp'] + 1, $v['nonce'], $v['body']));
        $this->assertNotSame($base, $signer->signature($v['method'], $v['path'], $v['timestamp'], strrev($v['nonce']), $v['body']));
        $this->assertNotSame($base, $signer->signature($v['method'], $v['path'], $v['timestamp'], $v['nonce'], $v['body'] . ' '));
        $other = new request_signer($v['key_id'], $v['secret'] . 'x');
        $this->assertNotSame($base, $other->signature($v['method'], $v['path'], $v['timestamp'], $v['nonce'], $v['body']));
    }

    public function test_fresh_nonces_are_long_hex_and_differ(): void {
        $a = request_signer::new_nonce();
        $b = request_signer::new_nonce();
        $this->assertMatchesRegularExpression('/^[0-9a-f]{32}$/', $a);
        $this->assertNotSame($a, $b);
        $signer = new request_signer('k', 's');
        $headers = $signer->headers('POST', '/api/v1/events', '{}');
        $this->assertMatchesRegularExpression('/^X-EDC-Timestamp: [0-9]+$/', $headers[1]);
        $this->assertLessThanOrEqual(2, abs(time() - (int)substr($headers[1], strlen('X-EDC-Timestamp: '))));
    }

    /**
     * @return array
     */
    public static function bad_inputs(): array {
        return [
            'lower-case method' => ['post', '/api/v1/events', '1', str_repeat('ab', 16), 'method'],
            'path with query' => ['GET', '/api/v1/issuances?site=x', '1', str_repeat('ab', 16), 'path'],
            'relative path' => ['POST', 'api/v1/events', '1', str_repeat('ab', 16), 'path'],
            'short nonce' => ['POST', '/api/v1/events', '1', str_repeat('ab', 15), 'nonce'],
            'upper-case nonce' => ['POST', '/api/v1/events', '1', str_repeat('AB', 16), 'nonce'],
            'timestamp not decimal' => ['POST', '/api/v1/events', '1e9', str_repeat('ab', 16), 'timestamp'],
        ];
    }

    /**
     * @dataProvider bad_inputs
     */
    public function test_bad_input_is_refused_naming_the_field(string $method, string $path, string $ts, string $nonce,
            string $field): void {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessageMatches('/^' . $field . ':/');
        request_signer::canonical($method, $path, $ts, $nonce, '');
    }

    public function test_empty_secret_or_key_id_is_refused(): void {
        try {
            new request_signer('k', '');
            $this->fail('empty secret accepted');
        } catch (InvalidArgumentException $e) {
            $this->assertStringStartsWith('shared secret:', $e->getMessage());
        }
        $this->expectExceptionMessageMatches('/^key id:/');
        new request_signer(" \n", 'secret');
    }

    public function test_secret_does_not_show_in_dumps(): void {
        $signer = new request_signer('kid', 'very-secret-value');
        $this->assertStringNotContainsString('very-secret-value', print_r($signer, true));
        ob_start();
        var_dump($signer);
        $dump = ob_get_clean();
        $this->assertStringNotContainsString('very-secret-value', $dump);
    }
}
