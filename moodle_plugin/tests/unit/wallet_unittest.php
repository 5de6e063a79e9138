<?php
// Moodle-free tests of "Add to wallet" (classes/local/wallet.php): the sidecar's answers are checked, and its QR
// code SVG is rebuilt from what a QR code needs, so nothing else it might carry reaches the page.

use block_edcissuer\local\wallet;
use PHPUnit\Framework\TestCase;

final class wallet_test extends TestCase {
    /** What the sidecar's qr_svg (segno's svg_inline) sends, in shape. */
    private const QR = '<svg width="148" height="148" class="segno"><g transform="scale(4)">'
        . '<path fill="#fff" d="M0 0h37v37h-37z"/><path class="qrline" stroke="#000" d="M2 2.5h7m3 0h1m-33 1h1"/></g></svg>';
    private const LINK = 'openid-credential-offer://?credential_offer_uri=http%3A%2F%2F127.0.0.1%3A8766%2Foid4vci%2Foffers%2FAbc_-1';

    private static function answer(array $changes = []): array {
        return array_merge(['credential_offer_uri' => self::LINK, 'qr_svg' => self::QR, 'tx_code_length' => 6,
            'expires_at' => '2026-12-02T18:15:00Z', 'credential_offer' => [], 'channel' => 'moodle'], $changes);
    }

    private static function svg_of(string $uri): string {
        $prefix = 'data:image/svg+xml;base64,';
        self::assertStringStartsWith($prefix, $uri);
        return base64_decode(substr($uri, strlen($prefix)), true);
    }

    public function test_an_offer_answer_is_read_and_its_qr_code_rebuilt_as_an_image(): void {
        $offer = wallet::offer(self::answer());
        $this->assertSame(self::LINK, $offer['link']);
        $this->assertSame(6, $offer['txcodelength']);
        $this->assertSame(gmmktime(18, 15, 0, 12, 2, 2026), $offer['expiresat']);
        $svg = self::svg_of($offer['qrsrc']);
        $this->assertStringStartsWith('<svg ', $svg);
        $this->assertStringContainsString('xmlns="http://www.w3.org/2000/svg"', $svg);
        $doc = new DOMDocument();
        $this->assertTrue($doc->loadXML($svg));
        $this->assertSame('http://www.w3.org/2000/svg', $doc->documentElement->namespaceURI);
        $this->assertSame(2, $doc->getElementsByTagName('path')->length);
        $this->assertSame('M2 2.5h7m3 0h1m-33 1h1', $doc->getElementsByTagName('path')->item(1)->getAttribute('d'));
    }

    public function test_the_real_sidecar_svg_passes(): void {
        // A QR code of a real offer link as segno draws it (tests/e2e checks the one the live sidecar sends).
        $path = str_repeat('m1 0h2m3 0h1', 400);
        $svg = '<svg width="212" height="212" class="segno"><g transform="scale(4)"><path fill="#fff" d="M0 0h53v53h-53z"/>'
            . '<path class="qrline" stroke="#000" d="M2 2.5' . $path . '"/></g></svg>';
        $this->assertNotNull(wallet::qr_data_uri($svg));
    }

    /**
     * @return array
     */
    public static function unsafe_svgs(): array {
        return [
            'script' => ['<svg><script>alert(1)</script></svg>'],
            'event handler' => ['<svg onload="alert(1)"><path d="M0 0h1"/></svg>'],
            'foreign object' => ['<svg><foreignObject><p>hi</p></foreignObject></svg>'],
            'link' => ['<svg><a href="javascript:alert(1)"><path d="M0 0h1"/></a></svg>'],
            'image' => ['<svg><image href="https://tracker.example/x.png"/></svg>'],
            'style' => ['<svg><style>*{background:url(https://x)}</style></svg>'],
            'style attribute' => ['<svg><path style="fill:url(https://x)" d="M0 0h1"/></svg>'],
            'fill url' => ['<svg><path fill="url(#x)" d="M0 0h1"/></svg>'],
            'path with letters' => ['<svg><path d="M0 0 javascript"/></svg>'],
            'text' => ['<svg>hello</svg>'],
            'entity' => ['<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>'],
            'not svg' => ['<html><body/></html>'],
            'not xml' => ['<svg><path'],
            'xlink namespace' => ['<svg xmlns:x="http://www.w3.org/1999/xlink"><path x:href="#a" d="M0 0h1"/></svg>'],
            'other namespace element' => ['<svg><h:p xmlns:h="http://www.w3.org/1999/xhtml"/></svg>'],
            'empty' => [''],
        ];
    }

    /**
     * @dataProvider unsafe_svgs
     * @param string $svg
     */
    public function test_anything_but_a_plain_qr_drawing_is_refused(string $svg): void {
        $this->assertNull(wallet::qr_data_uri($svg));
        $this->assertSame('', wallet::offer(self::answer(['qr_svg' => $svg]))['qrsrc']);
    }

    /**
     * @return array
     */
    public static function bad_offers(): array {
        return [
            'javascript link' => [['credential_offer_uri' => 'javascript:alert(1)'], 'credential_offer_uri'],
            'https link' => [['credential_offer_uri' => 'https://wallet.example/?x=1'], 'credential_offer_uri'],
            'offer by value with quotes' => [['credential_offer_uri' =>
                'openid-credential-offer://?credential_offer={"a":"b"}'], 'credential_offer_uri'],
            'link with a quote' => [['credential_offer_uri' => self::LINK . '"><script>'], 'credential_offer_uri'],
            'missing link' => [['credential_offer_uri' => null], 'credential_offer_uri'],
            'no expiry' => [['expires_at' => 'tomorrow'], 'expires_at'],
            'code length' => [['tx_code_length' => 40], 'tx_code_length'],
        ];
    }

    /**
     * @dataProvider bad_offers
     * @param array $changes
     * @param string $field
     */
    public function test_an_answer_that_is_not_an_offer_is_refused_naming_the_field(array $changes, string $field): void {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessageMatches('/^' . preg_quote($field, '/') . ' /');
        wallet::offer(self::answer($changes));
    }

    public function test_a_code_answer_is_digits_and_an_expiry(): void {
        $this->assertSame(['txcode' => '004711', 'expiresat' => gmmktime(10, 0, 0, 1, 1, 2027)],
            wallet::code(['tx_code' => '004711', 'expires_at' => '2027-01-01T10:00:00Z']));
        foreach (['12a456', '12', '<b>1234</b>', 123456] as $bad) {
            try {
                wallet::code(['tx_code' => $bad, 'expires_at' => '2027-01-01T10:00:00Z']);
                $this->fail('accepted ' . var_export($bad, true));
            } catch (InvalidArgumentException $e) {
                $this->assertStringStartsWith('tx_code ', $e->getMessage());
            }
        }
    }

    public function test_both_configurations_are_the_sidecars_names(): void {
        $this->assertSame(['learning_credential_sd_jwt', 'open_badge_jwt_vc_json'], wallet::CONFIGURATIONS);
    }
}
