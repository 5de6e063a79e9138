"""Session-wide test tokens: real SoftHSM tokens in temporary directories, one RSA-3072 and one P-256.

Every area's tests seal with these; each holds an active TEST seal certified by its own TEST CA.
"""
from __future__ import annotations

import pytest

from hsm.demo_token import DemoToken, create_demo_token


@pytest.fixture(scope="session")
def rsa_token(tmp_path_factory) -> DemoToken:
    return create_demo_token(tmp_path_factory.mktemp("rsa-token"), key_type="rsa3072", token_label="edc-test-rsa")


@pytest.fixture(scope="session")
def ec_token(tmp_path_factory) -> DemoToken:
    return create_demo_token(tmp_path_factory.mktemp("ec-token"), key_type="ecp256", token_label="edc-test-ec")
