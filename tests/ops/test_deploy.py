"""The container files cannot be run here (no Docker engine), so their shape is checked instead."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_default(value: str) -> str:
    """What `${VAR:-default}` becomes with VAR unset."""
    match = re.fullmatch(r"\$\{\w+:-(.*)\}", str(value))
    return match[1] if match else str(value)


def readme_configuration_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_compose_passes_every_configuration_variable_through():
    compose = (ROOT / "docker-compose.yml").read_text()
    variables = readme_configuration_variables()

    missing = {name for name in variables if f"${{{name}:" not in compose}

    assert {"SECRET_KEY", "HTTPS_ONLY", "PORT"} <= variables
    assert not missing, f"README's Configuration table names these, docker-compose.yml does not pass them: {missing}"


def test_env_example_lists_exactly_the_configuration_table():
    lines = (ROOT / ".env.example").read_text().splitlines()
    keys = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}

    assert keys == readme_configuration_variables()


def test_dockerignore_keeps_secrets_and_local_data_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".env", ".env.*", "*.sqlite3", "media"} <= ignored


def test_compose_defines_every_service_with_a_healthcheck():
    services = load_compose()["services"]
    assert set(services) == {"proxy", "web", "worker", "beat", "db", "db-replica", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"


def test_compose_web_migrates_before_serving_with_gunicorn():
    command = load_compose()["services"]["web"]["command"]
    assert command.index("manage.py migrate") < command.index("gunicorn config.wsgi")
    assert "gunicorn.conf.py" in command


def test_compose_worker_and_beat_run_celery_for_the_project():
    services = load_compose()["services"]
    assert services["worker"]["command"].startswith("celery -A config worker")
    assert services["beat"]["command"].startswith("celery -A config beat")


def test_compose_app_services_share_env_and_wait_for_healthy_backends():
    services = load_compose()["services"]
    for name in ("web", "worker", "beat"):
        env = {key: compose_default(value) for key, value in services[name]["environment"].items()}
        assert env["DEBUG"] == "false"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }


def test_dockerfile_is_slim_non_root_and_collects_static():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    user_lines = [line for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert user_lines and user_lines[-1] != "USER root"
    assert '"gunicorn", "config.wsgi", "--config", "gunicorn.conf.py"' in dockerfile


def test_compose_web_and_worker_scale_behind_the_proxy():
    services = load_compose()["services"]
    # `--scale web=2` fails when a service binds a fixed host port: only the proxy publishes one.
    for name in ("web", "worker", "beat"):
        assert "ports" not in services[name] and "container_name" not in services[name], name
    assert services["proxy"]["ports"] == ["${HOST:-127.0.0.1}:${PORT:-8000}:8000"]
    assert "./deploy/compose/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in services["proxy"]["volumes"]
    # the proxy's X-Forwarded-For
    assert compose_default(services["web"]["environment"]["TRUSTED_PROXY_COUNT"]) == "1"


def test_compose_proxy_finds_every_web_replica_and_checks_it():
    config = (ROOT / "deploy" / "compose" / "haproxy.cfg").read_text()
    assert "nameserver dns 127.0.0.11:53" in config  # Docker's DNS answers one address per replica
    assert "server-template web 1-10 web:8000 check" in config
    assert "uri /healthz/" in config
    assert "retry-on conn-failure" in config  # never replays a request that reached a container


def test_compose_replica_is_an_optional_profile_streaming_from_db():
    services = load_compose()["services"]
    replica = services["db-replica"]
    assert replica["profiles"] == ["replica"]
    assert "pg_basebackup -h db" in replica["command"] and "-R" in replica["command"]
    assert replica["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "wal_level=replica" in services["db"]["command"]
    assert all("profiles" not in service for name, service in services.items() if name != "db-replica")
