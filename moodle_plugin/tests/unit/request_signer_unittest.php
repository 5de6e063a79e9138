<?php
// Moodle-free tests of the request signature against the shared vectors (tests/vectors/intake-hmac-v1.json and
// intake-hmac-v2.json), the same files the sidecar's Python tests read.

use block_edcissuer\local\request_signer;
use PHPUnit\Framework\TestCase;

final class request_signer_test extends TestCase {
    /**
     * @param string $version 'v1' or 'v2'
     * @return array
     */
    private static function vector_file(string $version = 'v1'): array {
        $path = BLOCK_EDCISSUER_REPO_ROOT . '/tests/vectors/intake-hmac-' . $version . '.json';
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

    /**
     * @return array
     */
    public static function vectors_v2(): array {
        $cases = [];
        foreach (self::vector_file('v2')['vectors'] as $vector) {
            $cases[$vector['name']] = [$vector];
        }
        return $cases;
    }

    public function test_vector_file_has_cases(): void {
        $this->assertGreaterThanOrEqual(3, count(self::vector_file()['vectors']));
        $names = array_column(self::vector_file('v2')['vectors'], 'name');
        foreach (['no query', 'simple query', 'unsorted query', 'repeated names', 'non-ASCII value',
                'reserved characters', 'empty value'] as $name) {
            $this->assertContains($name, $names);
        }
        $this->assertSame(request_signer::HEADER_VERSION, self::vector_file('v2')['headers']['version']);
    }

    /**
     * @dataProvider vectors
     */
    public function test_canonical_string_matches_vector(array $v): void {
        $this->assertSame($v['body_sha256'], hash('sha256', $v['body']));
        $this->assertSame($v['canonical'], request_signer::canonical($v['method'], $v['path'], (string)$v['timestamp'],
            $v['nonce'], $v['body'], '', request_signer::VERSION_V1));
    }

    /**
     * @dataProvider vectors
     */
    public function test_signature_matches_vector(array $v): void {
        $signer = new request_signer($v['key_id'], $v['secret']);
        $this->assertSame($v['signature'], $signer->signature($v['method'], $v['path'], $v['timestamp'], $v['nonce'],
            $v['body'], '', request_signer::VERSION_V1));
        $this->assertNotSame($v['signature'], $signer->signature($v['method'], $v['path'], $v['timestamp'], $v['nonce'],
            $v['body']), 'v2 signs a different string');
    }

    /**
     * @dataProvider vectors_v2
     */
    public function test_v2_canonical_string_matches_vector(array $v): void {
        $this->assertSame($v['body_sha256'], hash('sha256', $v['body']));
        $this->assertSame($v['canonical_query'], request_signer::canonical_query($v['query']));
        $this->assertSame($v['canonical'],
            request_signer::canonical($v['method'], $v['path'], (string)$v['timestamp'], $v['nonce'], $v['body'], $v['query']));
    }

    /**
     * @dataProvider vectors_v2
     */
    public function test_v2_signature_matches_vector(array $v): void {
        $signer = new request_signer($v['key_id'], $v['secret']);
        $this->assertSame($v['signature'],
            $signer->signature($v['method'], $v['path'], $v['timestamp'], $v['nonce'], $v['body'], $v['query']));
    }

    /**
     * @dataProvider vectors_v2
     */
    public function test_headers_carry_the_vector_values(array $v): void {
        $names = self::vector_file('v2')['headers'];
        $signer = new request_signer($v['key_id'], $v['secret']);
        $headers = $signer->headers($v['method'], $v['path'], $v['body'], $v['timestamp'], $v['nonce'], $v['query']);
        $this->assertSame([
            $names['key_id'] . ': ' . $v['key_id'],
            $names['timestamp'] . ': ' . $v['timestamp'],
            $names['nonce'] . ': ' . $v['nonce'],
            $names['signature'] . ': ' . $v['signature'],
            $names['version'] . ': v2',
        ], $headers);
    }

    public function test_any_change_changes_the_signature(): void {
        $v = self::vector_file('v2')['vectors'][1];
        $this->assertNotSame('', $v['query']);
        [$m, $p, $t, $n, $b, $q] = [$v['method'], $v['path'], $v['timestamp'], $v['nonce'], $v['body'], $v['query']];
        $signer = new request_signer($v['key_id'], $v['secret']);
        $base = $signer->signature($m, $p, $t, $n, $b, $q);
        $this->assertNotSame($base, $signer->signature('PUT', $p, $t, $n, $b, $q));
        $this->assertNotSame($base, $signer->signature($m, '/api/v1/event', $t, $n, $b, $q));
        $this->assertNotSame($base, $signer->signature($m, $p, $t + 1, $n, $b, $q));
        $this->assertNotSame($base, $signer->signature($m, $p, $t, str_repeat('cd', 16), $b, $q));
        $this->assertNotSame($base, $signer->signature($m, $p, $t, $n, $b . ' ', $q));
        $this->assertNotSame($base, $signer->signature($m, $p, $t, $n, $b, str_replace('course=12', 'course=13', $q)));
        $this->assertNotSame($base, $signer->signature($m, $p, $t, $n, $b, $q . '&x='));
        $this->assertNotSame($base, $signer->signature($m, $p, $t, $n, $b));
        $other = new request_signer($v['key_id'], $v['secret'] . 'x');
        $this->assertNotSame($base, $other->signature($m, $p, $t, $n, $b, $q));
    }

    /**
     * @return array
     */
    public static function equivalent_queries(): array {
        return [
            'order' => ['site=demo&course=1', 'course=1&site=demo'],
            'space as + or %20' => ['q=a%20b', 'q=a+b'],
            'unreserved encoded or not' => ['t=%7E%2d%2E%5f', 't=~-._'],
            'hex case' => ['n=%c5%bd', 'n=%C5%BD'],
            'no = is an empty value' => ['flag', 'flag='],
            'empty parts skipped' => ['a=1&&b=2', 'b=2&a=1'],
            'split at the first =' => ['q=a%3Db', 'q=a=b'],
        ];
    }

    /**
     * @dataProvider equivalent_queries
     */
    public function test_equivalent_queries_share_one_canonical_form(string $a, string $b): void {
        $this->assertSame(request_signer::canonical_query($a), request_signer::canonical_query($b));
    }

    public function test_canonical_query_examples(): void {
        $this->assertSame('', request_signer::canonical_query(''));
        $this->assertSame('a=10&a=2&b=2', request_signer::canonical_query('b=2&a=2&a=10'));
        $this->assertSame('a=2&a-b=1', request_signer::canonical_query('a-b=1&a=2'));
        $this->assertSame('v=%FF%FE', request_signer::canonical_query('v=%ff%FE'));
        $this->assertNotSame(request_signer::canonical_query('q=a%2Bb'), request_signer::canonical_query('q=a+b'));
        $this->assertNotSame(request_signer::canonical_query('t=1'), request_signer::canonical_query('t=1&t=1'));
    }

    /**
     * The query the client really sends (http_build_query, RFC 3986) signs as the vector says.
     */
    public function test_client_query_encoding_matches_vector(): void {
        $query = http_build_query(['site' => 'moodle-abc', 'course' => 12], '', '&', PHP_QUERY_RFC3986);
        $this->assertSame(self::vector_file('v2')['vectors'][1]['canonical_query'], request_signer::canonical_query($query));
        $query = http_build_query(['site' => 'moodle-lt', 'name' => 'Žemaitė', 'course' => 7], '', '&', PHP_QUERY_RFC3986);
        $this->assertSame('course=7&name=%C5%BDemait%C4%97&site=moodle-lt', request_signer::canonical_query($query));
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
        $this->assertSame('X-EDC-Auth-Version: v2', $headers[4]);
    }

    /**
     * @return array
     */
    public static function bad_inputs(): array {
        $nonce = str_repeat('ab', 16);
        return [
            'lower-case method' => ['post', '/api/v1/events', '1', $nonce, '', 'v2', 'method'],
            'path with query' => ['GET', '/api/v1/issuances?site=x', '1', $nonce, '', 'v2', 'path'],
            'relative path' => ['POST', 'api/v1/events', '1', $nonce, '', 'v2', 'path'],
            'short nonce' => ['POST', '/api/v1/events', '1', str_repeat('ab', 15), '', 'v2', 'nonce'],
            'upper-case nonce' => ['POST', '/api/v1/events', '1', str_repeat('AB', 16), '', 'v2', 'nonce'],
            'timestamp not decimal' => ['POST', '/api/v1/events', '1e9', $nonce, '', 'v2', 'timestamp'],
            'v1 with a query' => ['GET', '/api/v1/issuances', '1', $nonce, 'site=x', 'v1', 'query'],
            'query with a fragment' => ['GET', '/api/v1/issuances', '1', $nonce, 'site=x#y', 'v2', 'query'],
            'unknown version' => ['POST', '/api/v1/events', '1', $nonce, '', 'v3', 'version'],
        ];
    }

    /**
     * @dataProvider bad_inputs
     */
    public function test_bad_input_is_refused_naming_the_field(string $method, string $path, string $ts, string $nonce,
            string $query, string $version, string $field): void {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessageMatches('/^' . $field . ':/');
        request_signer::canonical($method, $path, $ts, $nonce, '', $query, $version);
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
