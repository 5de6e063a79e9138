<?php
// Moodle-free tests of the status names and the rule deciding which reported status wins.

use block_edcissuer\local\status;
use PHPUnit\Framework\TestCase;

final class status_test extends TestCase {
    public function test_every_contract_name_maps_to_itself(): void {
        foreach (['queued', 'issued', 'delivered', 'failed', 'revoked', 'parked'] as $name) {
            $this->assertSame($name, status::from_sidecar($name));
        }
    }

    /**
     * One contract: names the sidecar never sends (old guesses, other spellings) are refused, not mapped.
     *
     * @dataProvider never_sent
     */
    public function test_names_the_sidecar_never_sends_are_refused(string $name): void {
        $this->expectException(InvalidArgumentException::class);
        status::from_sidecar($name);
    }

    public static function never_sent(): array {
        return [['accepted'], ['pending'], ['received'], ['sealed'], ['sent'], ['error'], ['dead'], [' QUEUED '],
            ['superseded']];
    }

    public function test_a_revoked_credential_that_names_its_successor_shows_as_superseded(): void {
        $this->assertSame(status::SUPERSEDED, status::of_credential(status::REVOKED, 'urn:credential:new'));
        $this->assertSame(status::REVOKED, status::of_credential(status::REVOKED, null));
        $this->assertSame(status::REVOKED, status::of_credential(status::REVOKED, ''));
        $this->assertSame(status::DELIVERED, status::of_credential(status::DELIVERED, null));
        $this->assertSame(status::ISSUED, status::of_credential('queued', null));
    }

    public function test_unknown_name_is_refused_and_named(): void {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('status: unknown name "archived"');
        status::from_sidecar('archived');
    }

    public function test_not_issued_is_not_a_sidecar_status(): void {
        $this->expectException(InvalidArgumentException::class);
        status::from_sidecar(status::NOT_ISSUED);
    }

    public function test_later_timestamp_wins_whatever_the_stage(): void {
        $this->assertTrue(status::supersedes(status::DELIVERED, 100, status::REVOKED, 200));
        $this->assertTrue(status::supersedes(status::DELIVERED, 100, status::QUEUED, 101));
        $this->assertFalse(status::supersedes(status::QUEUED, 200, status::DELIVERED, 100));
    }

    public function test_same_second_later_stage_wins_and_repeats_are_not_applied(): void {
        $this->assertTrue(status::supersedes(status::ISSUED, 100, status::DELIVERED, 100));
        $this->assertFalse(status::supersedes(status::DELIVERED, 100, status::ISSUED, 100));
        $this->assertFalse(status::supersedes(status::DELIVERED, 100, status::DELIVERED, 100));
    }

    public function test_nothing_recorded_means_anything_applies(): void {
        $this->assertTrue(status::supersedes(null, 0, status::FAILED, 0));
        $this->assertTrue(status::supersedes(status::NOT_ISSUED, 500, status::QUEUED, 1));
    }

    public function test_pending_flag_and_badges_that_draw_on_bootstrap_4_and_5(): void {
        $this->assertTrue(status::is_pending(status::QUEUED));
        $this->assertFalse(status::is_pending(status::DELIVERED));
        $this->assertFalse(status::is_pending(status::ISSUED));
        $this->assertFalse(status::is_pending(status::FAILED));
        $this->assertSame('bg-danger text-white', status::badge_class(status::PARKED));
        $this->assertSame('bg-warning text-dark', status::badge_class(status::SUPERSEDED));
        $this->assertSame('bg-secondary text-white', status::badge_class(status::NOT_ISSUED));
        foreach ([status::QUEUED, status::ISSUED, status::DELIVERED, status::FAILED, status::REVOKED, status::PARKED,
                status::SUPERSEDED, status::NOT_ISSUED] as $state) {
            $this->assertStringNotContainsString('badge-', status::badge_class($state), $state);
        }
    }
}
