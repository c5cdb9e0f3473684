"""Benchmark settings: the real settings plus a URLconf with the `ceiling` view (see benchmarks/urls.py)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
