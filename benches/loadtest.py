#!/usr/bin/env python3
"""The network load test: each stack served on loopback, a GET and a POST (with a valid token
and the cookies of a prior GET) hammered by wrk, stacks interleaved in rounds, then a Markdown
table and an SVG chart in docs/benchmarks/, with the in-process medians criterion recorded for
`--bench stacks` just before (benches/run.sh runs both). `--render` writes the tables and chart
again from the last run's results.json without running anything."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "target", "release", "bench_server")
VENV = os.path.join(ROOT, "target", "tools", "flaskvenv")
OUT = os.path.join(ROOT, "docs", "benchmarks")
# STACKS=bare,mitten-full runs a subset (a quick look; the committed results run them all).
STACKS = os.environ.get("STACKS", "bare,mitten-headers,mitten-header-bytes,mitten-full,mitten-bytes,peer-headers,peer-full,flask").split(",")
LABELS = {
    "bare": "bare axum",
    "mitten-headers": "Mitten, headers only",
    "mitten-full": "Mitten, full stack",
    "mitten-header-bytes": "control: bare axum sending Mitten's headers-only bytes",
    "mitten-bytes": "control: bare axum sending Mitten's full-stack bytes",
    "peer-headers": "axum-helmet + nonce",
    "peer-full": "peer stack (helmet, nonce, tower-http csrf, axum_csrf, tower-sessions)",
    "flask": "Flask + Talisman + SeaSurf (gunicorn, 4 workers)",
}
# The in-process benchmark (`cargo bench -p mitten-benches --bench stacks`): criterion's
# function ids are "<request> / <stack>", its estimates under target/criterion/stack/.
CRITERION = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "criterion")
IN_PROCESS_STACKS = [
    ("bare axum", "bare axum"),
    ("a pass-through layer", "bare axum behind a layer that does nothing (control)"),
    ("mitten headers", "Mitten, headers only"),
    ("peer headers (axum-helmet + nonce)", "axum-helmet + nonce"),
    ("mitten full", "Mitten, full stack"),
    ("peer full (helmet, nonce, tower-http csrf, axum_csrf, tower-sessions)", "peer stack"),
]
IN_PROCESS_REQUESTS = ["GET / {}", "GET / returning / {}", "POST / {}"]
# The floor (`--bench floor`): the full stack's work called on the core, without the adapter.
FLOOR_REQUESTS = ["GET / new visitor", "GET / returning", "POST /"]
# GET: a new visitor (no cookies: a session starts each time); GET returning: with the cookies
# of a prior GET; POST: the form with a valid token and those cookies.
METHODS = ["GET", "GET returning", "POST"]
DURATION = int(os.environ.get("DURATION", "8"))
ROUNDS = int(os.environ.get("ROUNDS", "7"))
CONNECTIONS = 32


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(stack, port):
    if stack == "flask":
        cmd = [os.path.join(VENV, "bin", "gunicorn"), "-w", "4", "-b", f"127.0.0.1:{port}", "--chdir",
               os.path.join(ROOT, "benches", "flask"), "--log-level", "warning", "app:app"]
    else:
        cmd = [SERVER, stack, f"127.0.0.1:{port}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"{stack} did not start")


def prime(port):
    """A first GET, as a browser: the cookies it sets and the token its form carries."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
        cookies = "; ".join(c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or [])
        page = response.read().decode()
    body = "text=hello"
    for field in ["_csrf_token", "authenticity_token"]:
        m = re.search(r'name="%s" value="([^"]*)"' % field, page)
        if m:
            body += "&%s=%s" % (field, urllib.parse.quote(m.group(1), safe=""))
    return cookies, body


def wrk(port, method, cookies="", body=""):
    """Requests per second. GET without cookies is a new visitor; with them, a returning one."""
    env = dict(os.environ, COOKIE=cookies, BODY=body, ORIGIN=f"http://127.0.0.1:{port}")
    cmd = ["wrk", "-t", "1", "-c", str(CONNECTIONS), "-d", f"{DURATION}s", f"http://127.0.0.1:{port}/"]
    script = "post.lua" if method == "POST" else "get.lua" if cookies else None
    if script:
        cmd[1:1] = ["-s", os.path.join(ROOT, "benches", script)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"{method} got {errors.group(1)} non-2xx responses:\n{out}")
    return rate


def check_post(port, cookies, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies,
        "Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200, response.status


def main():
    results = {s: {m: [] for m in METHODS} for s in STACKS}
    for round_ in range(ROUNDS):
        for stack in STACKS:
            port = free_port()
            proc = start(stack, port)
            try:
                results[stack]["GET"].append(wrk(port, "GET"))
                # Primed after the GET flood: each of those GETs started a session, and a
                # bounded store evicts the oldest ones (this one too, if made before).
                cookies, body = prime(port)
                check_post(port, cookies, body)
                results[stack]["GET returning"].append(wrk(port, "GET", cookies))
                results[stack]["POST"].append(wrk(port, "POST", cookies, body))
                print(f"round {round_ + 1}: {stack:15} " + "  ".join(f"{m} {results[stack][m][-1]:7.0f}/s" for m in METHODS), flush=True)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=10)
    write(results, in_process())


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if len(values) % 2 else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2


def criterion_medians(group):
    """Criterion's medians of one benchmark group, in µs, by function id: only those measured in
    this run of run.sh (which exports BENCH_STARTED, the time it started, before criterion)."""
    started = float(os.environ.get("BENCH_STARTED", "inf"))
    directory = os.path.join(CRITERION, group)
    found = {}
    for entry in os.listdir(directory) if os.path.isdir(directory) else []:
        path = os.path.join(directory, entry, "new")
        try:
            if os.path.getmtime(os.path.join(path, "estimates.json")) < started:
                continue
            meta = json.load(open(os.path.join(path, "benchmark.json")))
            estimates = json.load(open(os.path.join(path, "estimates.json")))
            found[meta["function_id"]] = estimates["median"]["point_estimate"] / 1000
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def in_process():
    """The stacks bench's medians in µs per request, with the floor's under "floor" if it ran;
    None if the stacks bench has not run in this run of run.sh."""
    found = criterion_medians("stack")
    table = {}
    for name, _ in IN_PROCESS_STACKS:
        row = [found.get(request.format(name)) for request in IN_PROCESS_REQUESTS]
        if None in row:
            return None
        table[name] = row
    floor = criterion_medians("floor")
    row = [floor.get(request) for request in FLOOR_REQUESTS]
    if None not in row:
        table["floor"] = row
    return table


def in_process_lines(table):
    bare = table["bare axum"]
    added = {name: [t - b for t, b in zip(row, bare)] for name, row in table.items() if name != "floor"}
    lines = [
        "", "## In process", "",
        "Criterion medians of `cargo bench -p mitten-benches --bench stacks`, run by the same command just before "
        "the load test: `tower::ServiceExt::oneshot` on prebuilt requests, one current-thread runtime, every POST "
        "checked to pass.", "",
        "| per request | GET, new visitor | GET, returning | POST | added over bare (GET new / returning / POST) |",
        "|---|---|---|---|---|",
    ]
    for name, label in IN_PROCESS_STACKS:
        if name not in table:  # results.json of a run before the stack was measured
            continue
        times = " | ".join(f"{t:.2f} µs" for t in table[name])
        more = "" if name == "bare axum" else " / ".join(f"{a:+.2f}" for a in added[name]) + " µs"
        lines.append(f"| {label} | {times} | {more} |")
    peer = added[IN_PROCESS_STACKS[-1][0]]
    shares = " / ".join(f"{m / p:.0%}" for m, p in zip(added["mitten full"], peer))
    lines += ["", f"Mitten's full stack adds {shares} of what the peer stack adds (GET new / returning / POST)."]
    if "a pass-through layer" in table:
        beyond = " / ".join(
            f"{h - p:+.2f}" for h, p in zip(table["mitten headers"], table["a pass-through layer"])
        )
        lines += [
            "",
            f"A layer that does nothing adds {' / '.join(f'{a:+.2f}' for a in added['a pass-through layer'])} µs "
            f"through axum's `Router::layer` (which boxes the layered route's future and clones its service); "
            f"Mitten's headers-only stack adds {beyond} µs beyond it: its header path's own cost through axum.",
        ]
    if "floor" in table:
        floor = " / ".join(f"{t:.2f}" for t in table["floor"])
        fifth = " / ".join(f"{p / 5:.2f}" for p in peer)
        adapter = " / ".join(f"{a - f:+.2f}" for a, f in zip(added["mitten full"], table["floor"]))
        lines += [
            "",
            f"The floor: the same protections called on the core with no adapter (`cargo bench -p mitten-benches "
            f"--bench floor`: no tower service, no axum extractor, the POST's token taken from a header) cost "
            f"{floor} µs (GET new / returning / POST); the layer adds {adapter} µs to that. A fifth of what the "
            f"peer stack adds is {fifth} µs.",
        ]
    return lines


def write(results, in_process_us=None):
    os.makedirs(OUT, exist_ok=True)
    med = {s: {m: median(v) for m, v in results[s].items()} for s in STACKS}
    bare = med["bare"]
    machine = f"{os.cpu_count()} cores, {subprocess.run(['uname', '-m'], capture_output=True, text=True).stdout.strip()}"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = [
        "# Benchmark results", "", "## Over the network", "",
        f"Machine: {cpu}, {machine}; server and wrk on the same loopback. wrk: 1 thread, {CONNECTIONS} connections, "
        f"{DURATION} s per run, {ROUNDS} interleaved rounds, medians shown. GET renders a form with a token and "
        "writes the session: *new* visitors send no cookies (a session starts every time), *returning* visitors send "
        "the cookies of a prior GET; POST sends the form with a valid token and those cookies.",
        "Every Rust stack is the same binary (`bench_server`), so the same allocator and runtime (2 worker threads).",
        "Each control serves the very responses one of Mitten's stacks sends (headers, cookie, page: captured from "
        "it once, held as static bytes) from a bare handler, doing none of Mitten's work: what it loses to bare "
        "axum is the cost of the response's size (on loopback and in wrk, which shares the two cores); what the "
        "stack loses beyond its control is Mitten's own work.", "",
        "| stack | GET, new visitor req/s | GET, returning req/s | POST req/s | vs bare: GET new | GET returning | POST |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in STACKS:
        rates = " | ".join(f"{med[s][m]:.0f}" for m in METHODS)
        ratios = " | ".join(f"{med[s][m] / bare[m]:.1%}" for m in METHODS)
        lines.append(f"| {LABELS[s]} | {rates} | {ratios} |")
    lines += [
        "",
        "How much the rounds agree: each stack's rate in a round divided by bare axum's in the same round (the "
        "rounds are interleaved, so the two ran minutes apart at most), as the median of the rounds and their "
        "range. A target is met by the ratio of medians above; this shows how far noise alone moves it.",
        "",
        "| stack | GET new: median (range) | GET returning | POST |",
        "|---|---|---|---|",
    ]
    for s in STACKS:
        if s == "bare":
            continue
        cells = []
        for m in METHODS:
            paired = [r / b for r, b in zip(results[s][m], results["bare"][m])]
            cells.append(f"{median(paired):.1%} ({min(paired):.1%}–{max(paired):.1%})")
        lines.append(f"| {LABELS[s]} | " + " | ".join(cells) + " |")
    if in_process_us:
        lines += in_process_lines(in_process_us)
    lines += ["", "Command: `bash benches/run.sh` (raw numbers in `results.json`).", ""]
    open(os.path.join(OUT, "results.md"), "w").write("\n".join(lines))
    raw = {"medians": med, "runs": results, "in_process_us": in_process_us}
    json.dump(raw, open(os.path.join(OUT, "results.json"), "w"), indent=1)
    open(os.path.join(OUT, "chart.svg"), "w").write(chart(med))
    print("\n".join(lines))


def chart(med):
    """Horizontal bars: POST throughput relative to bare axum."""
    width, bar_h, gap, left = 760, 26, 10, 330
    scale = (width - left - 70) / max(med[s]["POST"] for s in STACKS)
    height = 60 + len(STACKS) * (bar_h + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13">',
             f'<text x="10" y="22" font-size="15" font-weight="bold">POST with a valid CSRF token: requests per second (more is better)</text>']
    colors = {"bare": "#888", "mitten-headers": "#2b7", "mitten-full": "#1a6", "mitten-header-bytes": "#ccc", "mitten-bytes": "#bbb", "peer-headers": "#d83", "peer-full": "#c52", "flask": "#57b"}
    for i, s in enumerate(STACKS):
        y = 40 + i * (bar_h + gap)
        w = med[s]["POST"] * scale
        label = LABELS[s] if len(LABELS[s]) < 48 else LABELS[s][:45] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{label}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colors[s]}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 17}">{med[s]["POST"]:.0f}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    import urllib.parse  # noqa: F401 (used by prime)
    if sys.argv[1:] == ["--render"]:
        # The tables and chart again from the last run's raw numbers (after a change to how they
        # are reported).
        raw = json.load(open(os.path.join(OUT, "results.json")))
        STACKS = [s for s in STACKS if s in raw["runs"]]
        write(raw["runs"], raw.get("in_process_us"))
    else:
        main()
