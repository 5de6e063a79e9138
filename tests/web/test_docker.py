"""docker/ cannot be built here (no Docker engine); these checks hold it to what docker/README.md promises."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"
CONFIG_NAMES = {"EDC_DATABASE_URL", "EDC_PKCS11_MODULE", "EDC_SCHEMA_DIR", "EDC_TRUST_ANCHORS", "EDC_PIN_FILE"}


def _stages(dockerfile: str) -> dict[str, str]:
    """Each build stage's text by its name (FROM ... AS name)."""
    code = re.sub(r"(?m)^\s*#.*$", "", dockerfile)  # comments may mention anything
    parts = re.split(r"(?m)^FROM\s+\S+\s+AS\s+(\w+)\s*$", code)
    return dict(zip(parts[1::2], parts[2::2]))


def test_dockerfile_has_a_non_root_production_target_with_health_check():
    stages = _stages((DOCKER / "Dockerfile").read_text())
    assert {"build", "production", "dev"} <= stages.keys()
    production = stages["production"]
    assert re.search(r"(?m)^USER edc:edc$", production)
    assert "HEALTHCHECK" in production and "/healthz" in production
    assert "softhsm" not in production.lower(), "SoftHSM belongs to the dev target only"
    assert "fonts-dejavu-core" in production  # the PDF's Lithuanian letters
    for name in CONFIG_NAMES:
        assert name in production, f"{name} has no default in the production image"


def test_dev_target_adds_softhsm_and_drops_root_again():
    dev = _stages((DOCKER / "Dockerfile").read_text())["dev"]
    assert "softhsm2" in dev and "serve --demo" in dev
    users = re.findall(r"(?m)^USER (\S+)$", dev)
    assert users[-1] == "edc:edc"


def test_compose_stack_has_sidecar_postgres_mail_catcher_and_moodle():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"sidecar", "hsm", "postgres", "mailpit", "moodle"}
    sidecar = services["sidecar"]
    assert sidecar["build"]["target"] == "dev"
    env = sidecar["environment"]
    assert env["EDC_DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["EDC_DATABASE_URL"]
    assert env["EDC_SMTP_URL"] == "smtp://mailpit:1025"
    assert sidecar["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]
    assert "../moodle_plugin:/var/www/html/blocks/edcissuer:ro" in services["moodle"]["volumes"]
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{port}: the local stack must not listen on every interface"
    assert set(compose["volumes"]) == {"sidecar-data", "hsm-data", "postgres-data", "moodle-data"}


def test_compose_scales_the_sidecar_on_one_registry_and_one_hsm():
    """`--scale sidecar=3` (docker/README.md, "Running several replicas"): a host port per replica, the one
    PostgreSQL registry, and the token reached over p11-kit's remote protocol from the hsm service."""
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    sidecar, hsm = services["sidecar"], services["hsm"]
    assert sidecar["ports"] == ["127.0.0.1:8082-8084:8080"] and "container_name" not in sidecar
    env = sidecar["environment"]
    assert env["EDC_PKCS11_MODULE"].endswith("/pkcs11/p11-kit-client.so")
    socket = env["P11_KIT_SERVER_ADDRESS"].removeprefix("unix:path=")
    assert socket.startswith("/var/lib/edc-hsm/") and "hsm-data:/var/lib/edc-hsm" in sidecar["volumes"]
    assert socket.replace("/var/lib/edc-hsm/", "/var/lib/edc/") in hsm["command"][-1]
    assert "p11-kit server" in hsm["command"][-1] and "hsm-data:/var/lib/edc" in hsm["volumes"]
    assert f"pkcs11:token={env['EDC_TOKEN_LABEL']}" in hsm["command"][-1]
    assert sidecar["depends_on"]["hsm"]["condition"] == "service_healthy" and "healthcheck" in hsm


def test_build_contexts_leave_out_the_venv_and_local_state():
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)
    moodle = (DOCKER / "moodle" / "Dockerfile.dockerignore").read_text().split()
    assert "*" in moodle and "!docker/moodle/entrypoint.sh" in moodle


def test_every_file_the_images_copy_exists():
    root = DOCKER.parent
    for dockerfile in (DOCKER / "Dockerfile", DOCKER / "moodle" / "Dockerfile"):
        for line in re.findall(r"(?m)^COPY (?!--from)(.*)$", dockerfile.read_text()):
            sources = [p for p in line.split() if not p.startswith("--")][:-1]
            for source in sources:
                assert (root / source).exists(), f"{dockerfile.name} copies {source}, which does not exist"
