"""HAProxy accepts both proxy configs (compose's and the local cluster's). Part of `make cluster-test`, which
needs haproxy anyway (.ci/run installs it), so `make test` runs without it."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize("config", ["deploy/compose/haproxy.cfg", "deploy/cluster/haproxy.cfg"])
def test_haproxy_accepts_the_proxy_configs(config):
    # HAProxy from Debian (.ci/run installs it); the cluster's config takes its ports from the environment.
    env = {**os.environ, "CLUSTER_HTTP_PORT": "18080", "CLUSTER_WEB_A_PORT": "18001", "CLUSTER_WEB_B_PORT": "18002",
           "CLUSTER_CHECK_INTER_MS": "500"}
    haproxy = shutil.which("haproxy")
    assert haproxy, "haproxy is not installed (apt-get install haproxy; .ci/run does)"
    result = subprocess.run([haproxy, "-c", "-f", str(ROOT / config)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
