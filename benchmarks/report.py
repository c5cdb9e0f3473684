"""The results of a run: the dict the scenarios fill, the summary ratios and targets, and the files
results.json / results.md (in BENCH_OUTPUT) and the console table."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import subprocess
from pathlib import Path

from benchmarks.harness import (
    BUYERS,
    CONNECTIONS,
    DB_NAME,
    DURATION,
    HOT_STOCK,
    OUTPUT_DIR,
    PRODUCTS,
    ROUNDS,
    SEARCH_PRODUCTS,
    THREADS,
    WORKERS,
    WRK_THREADS,
)


def results_new(env: dict) -> dict:
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": os.environ.get("BENCH_COMMAND", "make bench"),
        "duration_s": DURATION,
        "config": {"products": PRODUCTS, "search_products": SEARCH_PRODUCTS, "connections": CONNECTIONS,
                   "wrk_threads": WRK_THREADS, "workers": WORKERS, "threads": THREADS, "buyers": BUYERS,
                   "hot_stock": HOT_STOCK, "database": DB_NAME, "cache_prefix": env["CACHE_KEY_PREFIX"]},
        "scenarios": {}, "queries": {}, "skipped": {}, "ratios": {}, "targets": {},
    }


def machine_info() -> dict:
    match = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    cpu = match.group(1) if match else ""
    mem = ""
    try:
        total_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{total_kb // 1024} MiB"
    except (OSError, AttributeError):
        pass
    versions = {}
    try:
        import django
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            versions["postgresql"] = cursor.fetchone()[0]
        from django_redis import get_redis_connection

        versions["redis"] = get_redis_connection("default").info().get("redis_version")
        versions["django"] = django.get_version()
    except Exception as error:  # noqa: BLE001 - informational only
        versions["error"] = str(error)
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "wrk": wrk_version.strip(), **versions,
            "load_average_at_end": os.getloadavg()}


def fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(results: dict) -> str:
    lines = [
        "| Scenario | req/s (orders/s, events/s) | p50 ms | p95 ms | p99 ms | SQL/request | Notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in results["scenarios"].items():
        rps = s.get("rps", s.get("orders_per_s"))
        note = s.get("note", "")
        if "sequential" in s:
            seq = s["sequential"]
            note += f"; sequential p50/p95 {seq['p50_ms']}/{seq['p95_ms']} ms"
        if "verification" in s:
            v = s["verification"]
            note += f"; {s['orders']} orders, statuses {s['statuses']}, oversell check {'OK' if v['ok'] else 'FAILED'}"
        if "list_during_checkout" in s:
            w = s["list_during_checkout"]
            note += (f"; catalog version bumped {s.get('catalog_version_bumps')}x, product list meanwhile: "
                     f"{w['requests']} reads, cache hit ratio {w['hit_ratio']}, "
                     f"p99 {w.get('p99_ms')} ms vs {w.get('p99_alone_ms')} ms alone ({w.get('p99_ratio')}x)")
        lines.append(f"| {name} | {fmt(rps)} | {fmt(s.get('p50_ms'), 2)} | {fmt(s.get('p95_ms'), 2)} | "
                     f"{fmt(s.get('p99_ms'), 2)} | {fmt(s.get('queries'))} | {note} |")
    return "\n".join(lines)


def compute_summary(results: dict) -> None:
    s = results["scenarios"]
    ratios = {}
    if "ceiling" in s:
        for name in ("list cached", "list uncached"):  # detail pages are smaller than the ceiling's bytes
            if name in s and s["ceiling"]["rps"]:
                ratios[f"{name} / ceiling"] = round(s[name]["rps"] / s["ceiling"]["rps"], 3)
    for name, values in results.get("round_ratios", {}).items():
        ratios[name] = sorted(values)[len(values) // 2]  # median of the per-round ratios
    results["ratios"] = ratios
    q = results["queries"]
    targets = {}
    if "list cached / ceiling" in ratios:
        targets["cached list >= 0.8 x ceiling"] = {"value": ratios["list cached / ceiling"],
                                                   "met": ratios["list cached / ceiling"] >= 0.8}
    if "list_uncached_by_page_size" in q:
        worst = max(q["list_uncached_by_page_size"].values())
        targets["uncached list <= 4 queries at any page size"] = {"value": q["list_uncached_by_page_size"],
                                                                   "met": worst <= 4}
    if "search 100k uncached" in s:
        seq = s["search 100k uncached"]["sequential"]["p95_ms"]
        targets["100k filtered search p95 <= 50 ms"] = {
            "value": {"sequential_p95_ms": seq, "under_load_p95_ms": s["search 100k uncached"]["p95_ms"]},
            "met": seq <= 50}
    if "checkout_by_cart_lines" in q:
        values = set(q["checkout_by_cart_lines"].values())
        targets["checkout queries independent of cart lines"] = {"value": q["checkout_by_cart_lines"],
                                                                 "met": len(values) == 1}
    results["targets"] = targets


def write_reports(results: dict) -> None:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    q = results["queries"]
    md = [
        "# Benchmark results",
        "",
        f"{results['date']} · `{results['command']}` · {results['duration_s']} s per wrk scenario, "
        f"{CONNECTIONS} connections, gunicorn {WORKERS} gthread workers x {THREADS} threads, DEBUG=false, "
        f"PostgreSQL + Redis, {results['config']['products']:,} products.",
        "",
        table(results),
        "",
        "## Ratios (same run)",
        "",
        f"Median of {ROUNDS} interleaved rounds (ceiling, cached list, uncached list, one after another); "
        f"per-round ratios: {results.get('round_ratios')}.",
        "",
        *[f"- {k}: **{v}**" for k, v in results["ratios"].items()],
        "",
        "## Targets",
        "",
        *[f"- {k}: {'met' if v['met'] else '**missed**'} ({v['value']})" for k, v in results["targets"].items()],
        "",
        "## SQL queries per request",
        "",
        f"- uncached list by page_size: {q.get('list_uncached_by_page_size')}",
        f"- checkout by cart lines: {q.get('checkout_by_cart_lines', 'not measured')}",
        "",
        "## Peak RSS of gunicorn workers (VmHWM)",
        "",
        f"{results.get('peak_rss_mib')}",
        "",
    ]
    if results["skipped"]:
        md += ["## Skipped", "", *[f"- {k}: {v}" for k, v in results["skipped"].items()], ""]
    md += [
        "## Method",
        "",
        "- wrk on loopback (`-t2 -c16 --latency`, script benchmarks/wrk.lua); p95 comes from wrk's own histogram.",
        "- Uncached: every request carries its own `Host: 127.0.0.1:<n>`; the response cache key includes the host",
        "  (port included), so each request misses and runs the SQL of a real miss with the same query string.",
        "- `sequential` = 200 one-at-a-time requests on a keep-alive connection (service time, no queueing).",
        "- SQL/request: in-process django.test.Client + CaptureQueriesContext on the same database and cache.",
        "- Checkout: buyers and addresses via the ORM, JWTs minted with simplejwt, carts filled through",
        "  POST /api/cart/items/, then POST /api/orders/ from a thread pool over real HTTP; stock, ledger and",
        "  order items are checked afterwards.",
        "- The machine was shared with other test suites during the run: absolute numbers are noisy, ratios less so.",
        "",
        "## Machine",
        "",
        "```",
        json.dumps(results["machine"], indent=2, default=str),
        "```",
        "",
    ]
    (OUTPUT_DIR / "results.md").write_text("\n".join(md))


def print_summary(results: dict) -> None:
    print()
    print(table(results))
    print()
    for key, value in results["ratios"].items():
        print(f"{key}: {value}")
    for key, value in results["targets"].items():
        print(f"{key}: {'met' if value['met'] else 'MISSED'} ({value['value']})")
    print(f"\nwrote {OUTPUT_DIR / 'results.json'} and {OUTPUT_DIR / 'results.md'}")
