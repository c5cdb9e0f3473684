"""deploy/k8s, checked the way a cluster would see it, without a cluster.

Every overlay is rendered with `kubectl kustomize` (offline), validated against the Kubernetes JSON schemas with
kubernetes-validate in strict mode, and scanned with checkov. The two tools live in their own venv
(`make deploy-tools`, requirements-deploy.txt) because their dependency trees fight the project's pins; they are
called as subprocesses. A missing tool fails the test: a check that cannot run must not look like a pass.
"""

import copy
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
NAMESPACES = {"production": "shop", "demo": "shop-demo"}
OVERLAYS = tuple(NAMESPACES)
SECRET_TEMPLATE = K8S / "base" / "secret.template.yaml"
CHECKOV_CONFIG = K8S / ".checkov.yaml"
# A version kubernetes-validate ships schemas for and the kubectl here (1.32) speaks.
KUBERNETES_VERSION = "1.32.0"
DEPLOY_BIN = Path(os.environ.get("DEPLOY_VENV", ROOT / ".venv-deploy")) / "bin"
# Media settings the app is gaining; the multi-replica route is an S3 bucket, so the manifests carry them now.
S3_SETTINGS = {"S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MEDIA_ROOT",
               "MEDIA_URL"}
TOOL_TIMEOUT = 300
WRITABLE_TMP = "/tmp"  # noqa: S108 - the one writable path of the containers, an emptyDir


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail("kubectl is not on PATH, so deploy/k8s cannot be rendered: install kubectl (it bundles kustomize)")
    return path


def deploy_tool(name: str) -> str:
    path = DEPLOY_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make deploy-tools` (it installs requirements-deploy.txt)")
    return str(path)


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False, **kwargs)


@functools.cache
def render(overlay: str) -> str:
    result = run([kubectl(), "kustomize", str(K8S / "overlays" / overlay)])
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize overlays/{overlay} failed:\n{result.stderr}")
    return result.stdout


@functools.cache
def objects(overlay: str) -> list[dict]:
    """The rendered objects, parsed once: treat them as read-only."""
    return [doc for doc in yaml.safe_load_all(render(overlay)) if doc]


def one(overlay: str, kind: str, name: str) -> dict:
    found = [o for o in objects(overlay) if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{overlay}: expected one {kind}/{name}, found {len(found)}"
    return found[0]


def config_map(overlay: str) -> dict:
    (found,) = [o for o in objects(overlay) if o["kind"] == "ConfigMap"]
    assert found["metadata"]["name"].startswith("shop-config-")  # with kustomize's content hash
    return found["data"]


def secret_template() -> dict:
    return yaml.safe_load(SECRET_TEMPLATE.read_text())


def pod_templates(overlay: str) -> dict[str, dict]:
    """name -> pod spec of every Deployment and Job."""
    return {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]
        for o in objects(overlay)
        if o["kind"] in {"Deployment", "Job"}
    }


def container(overlay: str, deployment: str) -> dict:
    (found,) = one(overlay, "Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return found


def configuration_table_variables() -> set[str]:
    """Every variable named in the first column of README.md's "Configuration" table."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


@pytest.fixture(scope="module")
def rendered_dir(tmp_path_factory) -> Path:
    """The rendered overlays and the Secret template, as files the tools read."""
    out = tmp_path_factory.mktemp("k8s")
    for overlay in OVERLAYS:
        (out / f"{overlay}.yaml").write_text(render(overlay))
    shutil.copy(SECRET_TEMPLATE, out / SECRET_TEMPLATE.name)
    return out


# --- Rendering and the two tools ------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_every_object_and_no_secret(overlay):
    kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects(overlay) if o["kind"] != "ConfigMap")
    assert kinds == sorted([
        f"Namespace/{NAMESPACES[overlay]}",
        "ServiceAccount/shop",
        "Deployment/shop-web", "Deployment/shop-worker", "Deployment/shop-beat", "Job/shop-migrate",
        "Service/shop-web", "Ingress/shop",
        "HorizontalPodAutoscaler/shop-web", "HorizontalPodAutoscaler/shop-worker",
        "PodDisruptionBudget/shop-web", "PodDisruptionBudget/shop-worker",
        "NetworkPolicy/shop-web", "NetworkPolicy/shop-no-inbound",
    ])
    # The operator owns the Secret: an apply must never create or overwrite it.
    assert not [o for o in objects(overlay) if o["kind"] == "Secret"]
    namespaces = {o["metadata"].get("namespace") for o in objects(overlay) if o["kind"] != "Namespace"}
    assert namespaces == {NAMESPACES[overlay]}


def test_manifests_match_the_kubernetes_schemas_strictly(rendered_dir):
    files = sorted(str(p) for p in rendered_dir.iterdir())
    result = run([deploy_tool("kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, *files])
    assert result.returncode == 0, result.stdout + result.stderr
    passed = result.stdout.count("passed for resource")
    expected = sum(len(objects(o)) for o in OVERLAYS) + 1  # + the Secret template
    assert passed == expected, result.stdout + result.stderr


def test_schema_validation_rejects_an_unknown_field(tmp_path):
    """The validator is not vacuous: a typo in a rendered Deployment fails it."""
    deployment = copy.deepcopy(one("production", "Deployment", "shop-web"))
    deployment["spec"]["replica"] = 2
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(deployment))
    result = run([deploy_tool("kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, str(broken)])
    assert result.returncode != 0
    assert "'replica' was unexpected" in result.stdout + result.stderr


def test_checkov_reports_no_failed_check(rendered_dir):
    result = run([deploy_tool("checkov"), "-d", str(rendered_dir), "--config-file", str(CHECKOV_CONFIG), "-o", "json"])
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    (kubernetes,) = [r for r in reports if r["check_type"] == "kubernetes"]
    failed = [
        f"{check['check_id']} {check['check_name']}: {check['resource']}"
        for check in kubernetes["results"]["failed_checks"]
    ]
    assert failed == [], "\n".join(failed)
    assert kubernetes["summary"]["failed"] == 0
    assert kubernetes["summary"]["parsing_errors"] == 0
    assert kubernetes["summary"]["passed"] > 0
    assert result.returncode == 0, result.stderr


def test_every_checkov_skip_is_explained_in_one_place():
    config = yaml.safe_load(CHECKOV_CONFIG.read_text())
    skipped = config["skip-check"]
    assert skipped, "no skip at all: drop this test's expectation"
    lines = CHECKOV_CONFIG.read_text().splitlines()
    for check_id in skipped:
        (index,) = [i for i, line in enumerate(lines) if line.strip() == f"- {check_id}"]
        assert lines[index - 1].strip().startswith("#"), f"{check_id} is skipped without a comment saying why"
        comment = "\n".join(line for line in lines[:index] if line.strip().startswith("#"))
        assert check_id in comment, f"{check_id} is skipped without its reason naming it"
    # Nowhere else: no per-resource `checkov.io/skip` annotations or `checkov:skip=` comments.
    for path in K8S.rglob("*.yaml"):
        if path != CHECKOV_CONFIG:
            text = path.read_text()
            assert "checkov.io/skip" not in text and "checkov:skip" not in text, path


# --- What the manifests must say -------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_beat_is_exactly_one_pod_replaced_not_overlapped(overlay):
    beat = one(overlay, "Deployment", "shop-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert not [o for o in objects(overlay) if o["kind"] == "HorizontalPodAutoscaler"
                and o["spec"]["scaleTargetRef"]["name"] == "shop-beat"]
    assert not [o for o in objects(overlay) if o["kind"] == "PodDisruptionBudget"
                and o["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/component") == "beat"]


def test_production_runs_at_least_two_web_pods():
    hpa = one("production", "HorizontalPodAutoscaler", "shop-web")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-web"}
    assert hpa["spec"]["minReplicas"] >= 2
    # The HPA owns the count; a `replicas` in the manifest would reset it on every apply.
    assert one("production", "Deployment", "shop-web")["spec"].get("replicas", hpa["spec"]["minReplicas"]) >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_and_worker_scale_and_survive_drains(overlay):
    for name in ("shop-web", "shop-worker"):
        hpa = one(overlay, "HorizontalPodAutoscaler", name)
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert "replicas" not in one(overlay, "Deployment", name)["spec"]
        pdb = one(overlay, "PodDisruptionBudget", name)
        template_labels = one(overlay, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= template_labels.items()
        assert pdb["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_probes_reach_gunicorn_as_an_allowed_https_host(overlay):
    web = container(overlay, "shop-web")
    (port,) = web["ports"]
    assert port == {"name": "http", "containerPort": 8000, "protocol": "TCP"}  # gunicorn.conf.py's bind
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz/"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz/"
    allowed_hosts = config_map(overlay)["ALLOWED_HOSTS"].split(",")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        http_get = web[probe]["httpGet"]
        assert http_get["port"] in ("http", 8000)
        headers = {h["name"]: h["value"] for h in http_get["httpHeaders"]}
        # Django answers another Host with 400, and HTTPS_ONLY's redirect would count as success.
        assert headers["Host"] in allowed_hosts
        assert headers["X-Forwarded-Proto"] == "https"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_runs_the_dockerfile_command_and_drains_before_stopping(overlay):
    web = container(overlay, "shop-web")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"CMD {json.dumps(web['command'])}" in dockerfile
    sleep = web["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep"
    grace = one(overlay, "Deployment", "shop-web")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > int(sleep[1]) + 30  # + gunicorn's graceful_timeout


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_worker_beat_and_migrate_run_the_projects_commands(overlay):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    worker = container(overlay, "shop-worker")["command"]
    beat = container(overlay, "shop-beat")["command"]
    assert " ".join(worker).startswith(compose["worker"]["command"])
    assert " ".join(beat) == compose["beat"]["command"]
    job = one(overlay, "Job", "shop-migrate")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrate_step_applies_everything_the_job_needs(overlay):
    """`kubectl apply -k <overlay> -l deploy-step=migrate` must bring the namespace, config and account too."""
    step = {o["kind"] for o in objects(overlay) if o["metadata"].get("labels", {}).get("deploy-step") == "migrate"}
    assert step == {"Namespace", "ServiceAccount", "ConfigMap", "Job"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_non_root_read_only_and_bounded(overlay):
    for name, pod in pod_templates(overlay).items():
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == 10001, name  # the Dockerfile's `shop` user
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        volumes = {v["name"]: v for v in pod["volumes"]}
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
            (tmp,) = [m for m in c["volumeMounts"] if m["mountPath"] == WRITABLE_TMP]
            assert "emptyDir" in volumes[tmp["name"]], name
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) == {"cpu", "memory"}, name
            assert re.fullmatch(r"[^:@]+:(?!latest$)[\w.-]+", c["image"]), c["image"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_reads_the_config_map_and_the_secret(overlay):
    config_name = next(o["metadata"]["name"] for o in objects(overlay) if o["kind"] == "ConfigMap")
    expected = [{"configMapRef": {"name": config_name}}, {"secretRef": {"name": "shop-secrets"}}]
    for name, pod in pod_templates(overlay).items():
        for c in pod["containers"]:
            assert c["envFrom"] == expected, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_configuration_variable_is_in_the_config_map_or_the_secret(overlay):
    documented = configuration_table_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "HTTPS_ONLY"} <= documented  # the README parse found the table
    config = set(config_map(overlay))
    secret = set(secret_template()["stringData"])
    assert not config & secret, config & secret
    missing = (documented | S3_SETTINGS) - config - secret
    assert not missing, f"in README.md's Configuration table (or S3_*) but in neither ConfigMap nor Secret: {missing}"
    assert {"SECRET_KEY", "DATABASE_URL", "STRIPE_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"} <= secret
    assert config_map(overlay)["DEBUG"] == "false"


def test_secret_template_commits_no_value():
    template = secret_template()
    assert template["kind"] == "Secret" and template["metadata"]["name"] == "shop-secrets"
    assert "data" not in template
    assert set(template["stringData"].values()) == {""}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_serves_tls_for_the_hosts_django_allows(overlay):
    ingress = one(overlay, "Ingress", "shop")
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert hosts <= {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}
    config = config_map(overlay)
    for host in hosts:
        assert host in config["ALLOWED_HOSTS"].split(",")
        assert f"https://{host}" in config["CSRF_TRUSTED_ORIGINS"].split(",")
    assert config["HTTPS_ONLY"] == "true"
