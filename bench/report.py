"""Renders bench/run.sh's figures as Markdown.

    python3 bench/report.py RESULTS.jsonl ENVIRONMENT.md WRK.txt

Ratios compare targets measured in the same run: at concurrency 1 the
gateway's p50 latency over the baseline's (2.0 = twice as slow), at
concurrency 32 the gateway's requests per second over the baseline's
(0.5 = half the throughput).
"""

import json
import re
import sys

TARGETS = ["nginx", "nginx-proxy", "s3s-fs", "gw-s3s", "gw-nginx", "gw-fs"]
CASES = [
    "head", "get-1k", "get-1m", "get-64m", "put-1k", "put-1m", "put-64m",
    "put-1m-signed", "list-1000", "bad-signature", "denied",
]
# (gateway target, baseline target, column title)
RATIOS = [
    ("gw-fs", "nginx", "gw-fs / nginx (a)"),
    ("gw-fs", "nginx-proxy", "gw-fs / nginx-proxy (b)"),
    ("gw-nginx", "nginx-proxy", "gw-nginx / nginx-proxy (b)"),
    ("gw-s3s", "s3s-fs", "gw-s3s / s3s-fs"),
]


def load(path):
    runs = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            run = json.loads(line)
            key = (run["case"], run["target"], run.get("concurrency", 0))
            summary = dict(run["summary"])
            summary["server_cpu_s"] = run.get("server_cpu_s")
            runs[key] = summary
    return runs


def fmt(value, digits=2):
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(numerator, denominator):
    if not numerator or not denominator:
        return "—"
    return f"{numerator / denominator:.2f}×"


def metric(runs, case, target, concurrency, name):
    summary = runs.get((case, target, concurrency))
    if not summary or not summary.get("count"):
        return None
    return summary.get(name)


def cpu_per_request(summary):
    cpu, count = summary.get("server_cpu_s"), summary.get("count")
    if cpu is None or not count:
        return None
    return cpu / count * 1e6


def summary_table(runs):
    out = ["## Gateway against the baselines", ""]
    out.append("Latency ratio = gateway p50 / baseline p50 at concurrency 1 (lower is better); "
               "throughput ratio = gateway req/s / baseline req/s at concurrency 32 (higher is better).")
    out.append("")
    header = ["case"]
    for _, _, title in RATIOS:
        header += [f"{title} p50", f"{title} req/s"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    for case in CASES:
        row = [case]
        for gateway, baseline, _ in RATIOS:
            row.append(ratio(metric(runs, case, gateway, 1, "p50_ms"),
                             metric(runs, case, baseline, 1, "p50_ms")))
            row.append(ratio(metric(runs, case, gateway, 32, "req_per_s"),
                             metric(runs, case, baseline, 32, "req_per_s")))
        if any(cell != "—" for cell in row[1:]):
            out.append("| " + " | ".join(row) + " |")
    return out


def cpu_table(runs):
    out = ["## Server CPU per request at concurrency 32", ""]
    out.append("CPU time of every server process over the run, divided by the requests answered, "
               "in µs (a gateway target includes its upstream's CPU).")
    out.append("")
    out.append("| case | " + " | ".join(TARGETS) + " |")
    out.append("|---|" + "---|" * len(TARGETS))
    for case in CASES:
        cells = []
        for target in TARGETS:
            summary = runs.get((case, target, 32))
            cells.append(fmt(cpu_per_request(summary), 1) if summary else "—")
        if any(cell != "—" for cell in cells):
            out.append(f"| {case} | " + " | ".join(cells) + " |")
    return out


def detail_table(runs, concurrency):
    title = "latency" if concurrency == 1 else "throughput"
    out = [f"## Concurrency {concurrency} ({title})", ""]
    out.append("| case | target | requests | errors | req/s | MB/s | p50 ms | p99 ms | server CPU µs/req |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for case in CASES:
        for target in TARGETS:
            summary = runs.get((case, target, concurrency))
            if not summary:
                continue
            out.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                case, target, summary.get("count", 0), summary.get("errors", 0),
                fmt(summary.get("req_per_s")), fmt(summary.get("mb_per_s")),
                fmt(summary.get("p50_ms"), 3), fmt(summary.get("p99_ms"), 3),
                fmt(cpu_per_request(summary), 1)))
    return out


def wrk_table(path):
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return []
    if not text.strip():
        return []
    out = ["## wrk cross-check: GET 1 KiB, 32 connections", ""]
    out.append("| target | req/s | p50 | p99 |")
    out.append("|---|---|---|---|")
    for block in text.split("== ")[1:]:
        name = block.splitlines()[0].strip()
        rps = re.search(r"Requests/sec:\s+([\d.]+)", block)
        p50 = re.search(r"^\s+50%\s+(\S+)", block, re.M)
        p99 = re.search(r"^\s+99%\s+(\S+)", block, re.M)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", block)
        cell = lambda m: m.group(1) if m else "—"
        label = name + (f" ({non2xx.group(1)} non-2xx)" if non2xx else "")
        out.append(f"| {label} | {cell(rps)} | {cell(p50)} | {cell(p99)} |")
    return out


def main():
    runs = load(sys.argv[1])
    environment = open(sys.argv[2], encoding="utf-8").read().rstrip()
    lines = ["# Benchmark results", "", "Written by `bash bench/run.sh`.", "", environment, ""]
    lines += summary_table(runs) + [""]
    lines += cpu_table(runs) + [""]
    lines += detail_table(runs, 1) + [""]
    lines += detail_table(runs, 32) + [""]
    if len(sys.argv) > 3:
        lines += wrk_table(sys.argv[3])
    print("\n".join(lines).rstrip())


if __name__ == "__main__":
    main()
