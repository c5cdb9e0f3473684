"""The results of a run: the dict the scenarios fill, the summary ratios and targets, the issue's goals, and the
files in BENCH_OUTPUT: results.json (a `make bench` run) or results-scale.json (a `make bench SCALE=N` run), and
results.md rendered from whichever of the two exist, so that one results.md shows every row of both runs."""

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
    SCALE,
    SEARCH_PRODUCTS,
    THREADS,
    WORKERS,
    WRK_THREADS,
)


def _command() -> str:
    """`make bench` as it was run: with the BENCH_* knobs that were set (BENCH_SCALE as make's SCALE=N)."""
    knobs = " ".join(
        f"{key}={value}"
        for key, value in sorted(os.environ.items())
        if key.startswith("BENCH_") and key not in ("BENCH_SCALE", "BENCH_COMMAND") and value
    )
    make = f"make bench SCALE={SCALE}" if SCALE else "make bench"
    return f"{knobs} {make}" if knobs else make


def results_new(env: dict) -> dict:
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": os.environ.get("BENCH_COMMAND") or _command(),
        "duration_s": DURATION,
        "config": {
            "products": PRODUCTS,
            "search_products": SEARCH_PRODUCTS,
            "connections": CONNECTIONS,
            "wrk_threads": WRK_THREADS,
            "workers": WORKERS,
            "threads": THREADS,
            "buyers": BUYERS,
            "hot_stock": HOT_STOCK,
            "database": DB_NAME,
            "cache_prefix": env["CACHE_KEY_PREFIX"],
        },
        "scenarios": {},
        "queries": {},
        "skipped": {},
        "ratios": {},
        "targets": {},
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
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": wrk_version.strip(),
        **versions,
        "load_average_at_end": os.getloadavg(),
    }


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
            note += (
                f"; catalog version bumped {s.get('catalog_version_bumps')}x, product list meanwhile: "
                f"{w['requests']} reads, cache hit ratio {w['hit_ratio']}, "
                f"p99 {w.get('p99_ms')} ms vs {w.get('p99_alone_ms')} ms alone ({w.get('p99_ratio')}x)"
            )
        lines.append(
            f"| {name} | {fmt(rps)} | {fmt(s.get('p50_ms'), 2)} | {fmt(s.get('p95_ms'), 2)} | "
            f"{fmt(s.get('p99_ms'), 2)} | {fmt(s.get('queries'))} | {note} |"
        )
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
    if "ceiling" in s and "webhook" in s and s["ceiling"]["rps"] and s["webhook"].get("rps"):
        ratios["webhook / ceiling"] = round(s["webhook"]["rps"] / s["ceiling"]["rps"], 3)
    results["ratios"] = ratios
    q = results["queries"]
    targets = {}
    if "list cached / ceiling" in ratios:
        targets["cached list >= 0.8 x ceiling"] = {
            "value": ratios["list cached / ceiling"],
            "met": ratios["list cached / ceiling"] >= 0.8,
        }
    if "list_uncached_by_page_size" in q:
        worst = max(q["list_uncached_by_page_size"].values())
        targets["uncached list <= 4 queries at any page size"] = {
            "value": q["list_uncached_by_page_size"],
            "met": worst <= 4,
        }
    if "search 100k uncached" in s:
        seq = s["search 100k uncached"]["sequential"]["p95_ms"]
        targets["100k filtered search p95 <= 50 ms"] = {
            "value": {"sequential_p95_ms": seq, "under_load_p95_ms": s["search 100k uncached"]["p95_ms"]},
            "met": seq <= 50,
        }
    if "checkout_by_cart_lines" in q:
        values = set(q["checkout_by_cart_lines"].values())
        targets["checkout queries independent of cart lines"] = {
            "value": q["checkout_by_cart_lines"],
            "met": len(values) == 1,
        }
    results["targets"] = targets


# --- the goals of issue 16: every row of its table, "today" quoted from the issue -----------------------------

ISSUE_GOALS = [
    ("cached list ÷ bare ceiling", "0.44", "≥ 0.8"),
    ("list hit ratio while 200 buyers check out", "0.58 (0.29 in the bench)", "≥ 0.95"),
    ("list p99 while 200 buyers check out ÷ its p99 alone", "54", "≤ 5"),
    ("uncached list (16 connections)", "103 req/s", "≥ 3 × today in the same run's terms (≥ 0.2 × bare ceiling)"),
    ("100k filtered search", "47 req/s; sequential p95 50.6 ms", "≥ 3 × today (141 req/s); sequential p95 ≤ 25 ms"),
    ("queries per checkout over HTTP", "23", "≤ 12, constant in lines"),
    (
        "hot-product checkout (200 buyers, stock 100)",
        "32.6 orders/s",
        "≥ 100 orders/s, zero oversell, `stock_audit` clean",
    ),
    (
        "webhook acknowledgement",
        "0.12 × ceiling at 16 connections; sequential p95 14 ms",
        "≥ 0.5 × ceiling req/s; sequential p95 ≤ 10 ms",
    ),
    ("a conditional GET answered 304", "—", "≥ 0.8 × ceiling"),
    (
        "1,000,000 products",
        "never tried",
        "list page 1 and filtered search sequential p95 ≤ 50 ms; admin product changelist < 1 s; seed in under 3 min",
    ),
    (
        "sale day: 200 buyers check out while 16 connections browse",
        "—",
        "list p99 ÷ alone ≤ 5, list hit ratio ≥ 0.95, zero oversell, `stock_audit` clean",
    ),
]


def _all(*checks) -> bool | None:
    """met when every check is True, missed when one is False, None (not measured) when one is None."""
    if any(check is None for check in checks):
        return None
    return all(checks)


def _at_most(value, bound) -> bool | None:
    return None if value is None else value <= bound


def _at_least(value, bound) -> bool | None:
    return None if value is None else value >= bound


def goals(results: dict, scale: dict | None = None) -> list[dict]:
    """One row per goal of ISSUE_GOALS: figure, today, measured (text), goal, met (True / False / None when this
    run did not measure it), computed from results.json and, for the 1M row, results-scale.json."""
    s, q, ratios = results.get("scenarios", {}), results.get("queries", {}), results.get("ratios", {})
    measured: dict[str, tuple[str, bool | None]] = {}

    def fig(value, digits=1):
        return "–" if value is None else fmt(float(value), digits)

    cached = ratios.get("list cached / ceiling")
    if cached is not None:
        measured["cached list ÷ bare ceiling"] = (fig(cached, 3), _at_least(cached, 0.8))

    sale = s.get("sale day")
    distinct = s.get("checkout distinct", {}).get("list_during_checkout")
    if sale or distinct:
        hit = sale["list_hit_ratio"] if sale else distinct.get("hit_ratio")
        hit_text = f"{fig(hit, 3)} (sale day)" if sale else f"{fig(hit, 3)} (checkout distinct, one sequential reader)"
        if sale and distinct:
            hit_text += f"; {fig(distinct.get('hit_ratio'), 3)} (checkout distinct)"
        measured["list hit ratio while 200 buyers check out"] = (hit_text, _at_least(hit, 0.95))

        p99 = sale["list_p99_ratio"] if sale else distinct.get("p99_ratio")
        if sale:
            p99_text = (
                f"{fig(p99, 2)} (sale day: {fig(sale['list']['p99_ms'])} ms ÷ "
                f"{fig(sale['list_alone']['p99_ms'])} ms, one list reader beside 16 browsing connections)"
            )
            if distinct:
                p99_text += f"; {fig(distinct.get('p99_ratio'), 2)} (checkout distinct, one sequential reader alone)"
        else:
            p99_text = f"{fig(p99, 2)} (checkout distinct, one sequential reader)"
        measured["list p99 while 200 buyers check out ÷ its p99 alone"] = (p99_text, _at_most(p99, 5))

    uncached = s.get("list uncached")
    ratio = ratios.get("list uncached / ceiling")
    if uncached:
        measured["uncached list (16 connections)"] = (
            f"{fig(uncached['rps'])} req/s = {fig(ratio, 3)} × ceiling",
            _at_least(ratio, 0.2),
        )

    search = s.get("search 100k uncached")
    if search:
        seq = search["sequential"]["p95_ms"]
        measured["100k filtered search"] = (
            f"{fig(search['rps'])} req/s; sequential p95 {fig(seq)} ms",
            _all(_at_least(search["rps"], 3 * 47), _at_most(seq, 25)),
        )

    by_lines = q.get("checkout_by_cart_lines")
    if by_lines:
        constant = len(set(by_lines.values())) == 1
        measured["queries per checkout over HTTP"] = (
            f"{by_lines['1']} (by cart lines {by_lines})",
            _all(_at_most(max(by_lines.values()), 12), constant),
        )

    hot = s.get("checkout hot product")
    if hot:
        ok = hot["verification"]["ok"]
        audit = hot.get("stock_audit", "")
        measured["hot-product checkout (200 buyers, stock 100)"] = (
            f"{fig(hot['orders_per_s'])} orders/s, {hot['buyers']} buyers; oversell check "
            f"{'OK' if ok else 'FAILED'}; stock_audit {audit or '–'}",
            _all(_at_least(hot["orders_per_s"], 100), ok, audit == "exit 0"),
        )

    webhook = s.get("webhook")
    if webhook:
        ratio = ratios.get("webhook / ceiling")
        seq = webhook.get("sequential", {})
        measured["webhook acknowledgement"] = (
            f"{fig(webhook['rps'])} req/s = {fig(ratio, 3)} × ceiling; sequential p50/p95 "
            f"{fig(seq.get('p50_ms'))}/{fig(seq.get('p95_ms'))} ms",
            _all(_at_least(ratio, 0.5), _at_most(seq.get("p95_ms"), 10)),
        )

    not_modified = ratios.get("list 304 / ceiling")
    if not_modified is not None:
        measured["a conditional GET answered 304"] = (
            f"{fig(s['list 304']['rps'])} req/s = {fig(not_modified, 3)} × ceiling",
            _at_least(not_modified, 0.8),
        )

    big = {name: e for name, e in (scale or {}).get("scenarios", {}).items() if name.startswith("scale ")}
    if big:
        by_kind = {kind: next((e for n, e in big.items() if kind in n), None)
                   for kind in ("list page 1", "filtered search", "admin product changelist")}  # fmt: skip
        seed_s = (scale.get("config") or {}).get("scale_seed_s")
        products = (scale.get("config") or {}).get("scale_products")

        def p95(kind):
            return by_kind[kind]["p95_ms"] if by_kind[kind] else None

        measured["1,000,000 products"] = (
            f"list page 1 p95 {fig(p95('list page 1'))} ms; filtered search p95 {fig(p95('filtered search'))} ms; "
            f"admin changelist p95 {fig(p95('admin product changelist'))} ms; seed {fig(seed_s)} s; "
            f"{fmt(products)} products "
            f"({scale['config'].get('scale_seed', '')}; run {scale.get('date')})",
            _all(
                _at_most(p95("list page 1"), 50),
                _at_most(p95("filtered search"), 50),
                _at_most(p95("admin product changelist"), 1000),
                _at_most(seed_s, 180),
                _at_least(products, 1_000_000),
            ),
        )

    if sale:
        b = sale["browse"]
        measured["sale day: 200 buyers check out while 16 connections browse"] = (
            f"{fig(sale['orders_per_s'])} orders/s ({sale['orders']} of {sale['buyers']} buyers), checkout "
            f"p50/p95/p99 {fig(sale['p50_ms'])}/{fig(sale['p95_ms'])}/{fig(sale['p99_ms'])} ms; browse "
            f"{fig(b['rps'])} req/s, p50/p95/p99 {fig(b['p50_ms'])}/{fig(b['p95_ms'])}/{fig(b['p99_ms'])} ms "
            f"(alone {fig(sale['browse_alone']['rps'])} req/s, p99 {fig(sale['browse_alone']['p99_ms'])} ms), browse "
            f"hit ratio {fig(b.get('hit_ratio'), 3)}; list hit ratio {fig(sale['list_hit_ratio'], 3)}, "
            f"list p99 ÷ alone {fig(sale['list_p99_ratio'], 2)}; stock_audit {sale['stock_audit']}",
            _all(
                _at_most(sale["list_p99_ratio"], 5),
                _at_least(sale["list_hit_ratio"], 0.95),
                sale["orders_ok"],
                sale["stock_audit"] == "exit 0",
            ),
        )

    return [
        {
            "figure": figure,
            "today": today,
            "measured": measured.get(figure, ("not measured in this run", None))[0],
            "goal": goal,
            "met": measured.get(figure, (None, None))[1],
        }
        for figure, today, goal in ISSUE_GOALS
    ]


def goals_table(rows: list[dict]) -> str:
    status = {True: "met", False: "**missed**", None: "not measured"}
    lines = ["| Figure | Today (issue 16) | This run | Goal | |", "|---|---|---|---|---|"]
    lines += [f"| {r['figure']} | {r['today']} | {r['measured']} | {r['goal']} | {status[r['met']]} |" for r in rows]
    return "\n".join(lines)


def write_reports(results: dict) -> None:
    """results.json (results-scale.json for a scale run), then results.md from both files where both exist."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    name = "results-scale.json" if SCALE else "results.json"
    (OUTPUT_DIR / name).write_text(json.dumps(results, indent=2, default=str) + "\n")
    main, scale = (_load(OUTPUT_DIR / f) for f in ("results.json", "results-scale.json"))
    (OUTPUT_DIR / "results.md").write_text(render_markdown(main, scale))


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _shape(results: dict) -> str:
    c = results["config"]
    gunicorn = c.get("gunicorn") or {}
    return (
        f"gunicorn {c.get('workers')} gthread workers x {c.get('threads')} threads (from "
        f"{c.get('shape_from', 'gunicorn.conf.py')}), keep-alive {gunicorn.get('keepalive', '–')} s"
    )


def render_markdown(main: dict | None, scale: dict | None) -> str:
    """results.md: the issue's goals over both runs, then each run's scenarios, ratios, queries and machine."""
    md = ["# Benchmark results", ""]
    runs = [r for r in (main, scale) if r]
    for run in runs:
        md.append(
            f"- {run['date']} · `{run['command']}` · {run['duration_s']} s per wrk scenario, "
            f"{run['config']['connections']} connections, {_shape(run)}, DEBUG=false, PostgreSQL + Redis, "
            f"{run['config']['products']:,} products."
        )
    md += [
        "",
        "## Goals (issue 16)",
        "",
        '"Today" is the issue\'s own starting figure; "this run" comes from results.json (and, for the 1M row, '
        "results-scale.json of a `make bench SCALE=1000000` run in the same folder).",
        "",
        goals_table(goals(main or {}, scale)),
        "",
    ]
    for run in runs:
        md += _run_markdown(run)
    return "\n".join(md)


def _run_markdown(results: dict) -> list[str]:
    q = results["queries"]
    title = "Scale run" if any(n.startswith("scale ") for n in results["scenarios"]) else "Run"
    md = [
        f"## {title}: {results['date']}",
        "",
        f"`{results['command']}` · {results['duration_s']} s per wrk scenario, {results['config']['connections']} "
        f"connections, {_shape(results)}, DEBUG=false, PostgreSQL + Redis, {results['config']['products']:,} products.",
        "",
        table(results),
        "",
    ]
    if "sale day" in results["scenarios"]:
        md += ["### Sale day", "", sale_day_table(results["scenarios"]["sale day"]), ""]
    if results.get("matrix"):
        md += ["### Server shapes (BENCH_MATRIX)", "", matrix_table(results["matrix"]), ""]
    if results.get("ratios"):
        md += [
            "### Ratios (same run)",
            "",
            f"Median of {ROUNDS} interleaved rounds (ceiling, cached list, 304, uncached list, one after another); "
            f"per-round ratios: {results.get('round_ratios')}.",
            "",
            *[f"- {k}: **{v}**" for k, v in results["ratios"].items()],
            "",
        ]
    if results.get("targets"):
        md += [
            "### Targets",
            "",
            *[f"- {k}: {'met' if v['met'] else '**missed**'} ({v['value']})" for k, v in results["targets"].items()],
            "",
        ]
    md += [
        "### SQL queries per request",
        "",
        f"- uncached list by page_size: {q.get('list_uncached_by_page_size', 'not measured')}",
        f"- checkout by cart lines: {q.get('checkout_by_cart_lines', 'not measured')}",
        "",
        "### Peak RSS of gunicorn workers (VmHWM)",
        "",
        f"{results.get('peak_rss_mib')}",
        "",
    ]
    if results["skipped"]:
        md += ["### Skipped", "", *[f"- {k}: {v}" for k, v in results["skipped"].items()], ""]
    md += [
        "### Method",
        "",
        "- wrk on loopback (`-t2 -c16 --latency`, script benchmarks/wrk.lua); p95 comes from wrk's own histogram.",
        "- Uncached: every request carries its own `Host: 127.0.0.1:<n>`; the response cache key includes the host",
        "  (port included), so each request misses and runs the SQL of a real miss with the same query string.",
        "- 304: the cached list's own ETag in `If-None-Match` (wrk -H), checked to answer 304 before the run.",
        "- `sequential` = 200 one-at-a-time requests on a keep-alive connection (service time, no queueing); the",
        "  webhook's are 200 unique, freshly signed events.",
        "- SQL/request: in-process django.test.Client + CaptureQueriesContext on the same database and cache.",
        "- Checkout: buyers and addresses via the ORM, JWTs minted with simplejwt, carts filled through",
        "  POST /api/cart/items/, then POST /api/orders/ from a thread pool over real HTTP; stock, ledger and",
        "  order items are checked afterwards.",
        "- Sale day: the browsing mix and one list reader run alone for the scenario's duration, then again while",
        "  the buyers check out (wrk stopped when the last checkout is answered); list p99 ratio = the reader's p99",
        "  during ÷ alone, hit ratio = its X-Cache HIT share during the checkouts.",
        "- One 2-core machine runs the servers, PostgreSQL, Redis and the load generators: absolute numbers are noisy, "
        "ratios less so.",
        "",
        "### Machine",
        "",
        "```",
        json.dumps(results.get("machine"), indent=2, default=str),
        "```",
        "",
    ]
    return md


def sale_day_table(e: dict) -> str:
    b, ba, lst, la = e["browse"], e["browse_alone"], e["list"], e["list_alone"]
    rows = [
        ("checkout", f"{fmt(e['orders_per_s'])} orders/s", e["p50_ms"], e["p95_ms"], e["p99_ms"],
         f"{e['orders']} of {e['buyers']} buyers, statuses {e['statuses']}, oversell check "
         f"{'OK' if e['verification']['ok'] else 'FAILED'}, stock_audit {e['stock_audit']}"),
        ("browse during checkout", f"{fmt(b['rps'])} req/s", b["p50_ms"], b["p95_ms"], b["p99_ms"],
         f"hit ratio {b.get('hit_ratio')}, {b['requests']} requests, statuses {b.get('statuses')}"),
        ("browse alone", f"{fmt(ba['rps'])} req/s", ba["p50_ms"], ba["p95_ms"], ba["p99_ms"],
         f"hit ratio {ba.get('hit_ratio')}; p99 during ÷ alone {e['browse_p99_ratio']}"),
        ("list reader during checkout", f"{fmt(lst['rps'])} req/s", lst["p50_ms"], lst["p95_ms"], lst["p99_ms"],
         f"hit ratio {e['list_hit_ratio']}; p99 during ÷ alone **{e['list_p99_ratio']}**"),
        ("list reader alone", f"{fmt(la['rps'])} req/s", la["p50_ms"], la["p95_ms"], la["p99_ms"],
         f"hit ratio {la.get('hit_ratio')}"),
    ]  # fmt: skip
    lines = ["| | throughput | p50 ms | p95 ms | p99 ms | |", "|---|---:|---:|---:|---:|---|"]
    lines += [f"| {r[0]} | {r[1]} | {fmt(r[2], 2)} | {fmt(r[3], 2)} | {fmt(r[4], 2)} | {r[5]} |" for r in rows]
    return "\n".join(lines)


def matrix_table(matrix: dict) -> str:
    """One row per shape and round: uncached list, then the sale day's figures."""
    lines = [
        "| shape | round | list uncached req/s (p99 ms) | orders/s | checkout p50/p99 ms | browse req/s | "
        "browse p99 ms (÷ alone) | list p99 ms during / alone (÷) | list hit ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, runs in matrix["runs"].items():
        for i, run in enumerate(runs, 1):
            u, e = run["list uncached"], run["sale day"]
            lines.append(
                f"| {label} | {i} | {fmt(u['rps'])} ({fmt(u['p99_ms'])}) | {fmt(e['orders_per_s'])} | "
                f"{fmt(e['p50_ms'], 0)}/{fmt(e['p99_ms'], 0)} | {fmt(e['browse']['rps'])} | "
                f"{fmt(e['browse']['p99_ms'], 0)} ({e['browse_p99_ratio']}) | {fmt(e['list']['p99_ms'], 1)} / "
                f"{fmt(e['list_alone']['p99_ms'], 1)} ({e['list_p99_ratio']}) | {e['list_hit_ratio']} |"
            )
    return "\n".join(lines)


def print_summary(results: dict) -> None:
    print()
    print(table(results))
    print()
    for key, value in results["ratios"].items():
        print(f"{key}: {value}")
    for key, value in results["targets"].items():
        print(f"{key}: {'met' if value['met'] else 'MISSED'} ({value['value']})")
    if results.get("matrix"):
        print()
        print(matrix_table(results["matrix"]))
    print()
    for row in goals(results if not SCALE else {}, results if SCALE else None):
        print(f"goal {row['figure']}: {row['measured']} -> {row['met']}")
    name = "results-scale.json" if SCALE else "results.json"
    print(f"\nwrote {OUTPUT_DIR / name} and {OUTPUT_DIR / 'results.md'}")
