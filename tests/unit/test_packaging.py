"""What CI can check of the Docker packaging without a Docker engine."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from hub.admin.auth import TokenBook

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def test_compose_file_parses_and_has_every_service() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"rabbitmq", "postgres", "simulators", "worker-1", "worker-2", "prometheus"} <= set(
        services
    )
    for name in ("worker-1", "worker-2"):
        env = services[name]["environment"]
        assert env["LOKET_STORE__URL"].startswith("postgresql://")
        assert services[name]["command"] == ["run"]
    assert "management" in services["rabbitmq"]["image"]


def test_prometheus_scrapes_both_workers_with_a_token_the_workers_accept() -> None:
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["static_configs"][0]["targets"] == ["worker-1:8780", "worker-2:8780"]
    token = (DOCKER / "admin-tokens-prometheus").read_text().strip()
    book = TokenBook.from_file(DOCKER / "admin-tokens")
    assert book.operator_for(f"Bearer {token}") == "prometheus"


def test_the_image_installs_what_ci_installs() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    setup = (DOCKER.parent / "scripts/setup.sh").read_text()
    runtime = re.search(r"DEB_PACKAGES=\(([^)]*)\)", setup)
    assert runtime is not None
    for package in ("xmlsec1", "poppler-utils", "fonts-dejavu-core"):
        assert package in runtime.group(1) and package in dockerfile
    assert "loket-hub" in dockerfile and 'ENTRYPOINT ["loket-hub"]' in dockerfile
