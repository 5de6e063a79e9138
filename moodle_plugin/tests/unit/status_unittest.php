<?php
// Moodle-free tests of the status names and the rule deciding which reported status wins.

use block_edcissuer\local\status;
use PHPUnit\Framework\TestCase;

final class status_test extends TestCase {
    public function test_every_contract_name_maps_to_itself(): void {
        foreach (['queued', 'issued', 'delivered', 'failed', 'revoked', 'parked'] as $name) {
            $this->assertSame($name, status::from_sidecar($name));
            $this->assertSame($name, status::from_sidecar(' ' . strtoupper($name) . ' '));
        }
    }

    public function test_aliases(): void {
        $this->assertSame(status::QUEUED, status::from_sidecar('accepted'));
        $this->assertSame(status::ISSUED, status::from_sidecar('sealed'));
        $this->assertSame(status::DELIVERED, status::from_sidecar('sent'));
        $this->assertSame(status::PARKED, status::from_sidecar('dead'));
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

    public function test_pending_and_credential_flags(): void {
        $this->assertTrue(status::is_pending(status::QUEUED));
        $this->assertFalse(status::is_pending(status::DELIVERED));
        $this->assertFalse(status::is_pending(status::ISSUED));
        $this->assertFalse(status::is_pending(status::FAILED));
        $this->assertTrue(status::has_credential(status::DELIVERED));
        $this->assertFalse(status::has_credential(status::QUEUED));
        $this->assertSame('badge-danger', status::badge_class(status::PARKED));
        $this->assertSame('badge-secondary', status::badge_class(status::NOT_ISSUED));
    }
}
