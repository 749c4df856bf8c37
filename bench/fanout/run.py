"""Fan-out benchmark: the time from one control command until every client in the room has it.

    .venv/bin/python -m bench.fanout [--n 1000] [--rounds 20] [--warmup 3] [--workers 4]
        [--targets lockstep-deflate-on,lockstep-deflate-off,node] [--raw]

In one run, for each target: start the server, run `clients.mjs` (Node: N socket.io-client
clients over --workers processes plus one controller) against it, stop the server. Targets:

* lockstep-deflate-on / -off: `.venv/bin/lockstep run` with an empty MUSIC_DIR (demo tracks),
  a fresh DATA_DIR and WS_PER_MESSAGE_DEFLATE=true / false;
* node (and, on request, node-deflate-on): `reference_server.mjs`, a Node socket.io server that
  only rebroadcasts, sending a payload copied from Lockstep's in the same run (when a Lockstep
  target ran) so the message is the same size and shape.

Lockstep targets run first, so the reference can copy their payload. Both kinds of server share
the machine's cores with the clients, the same way. It prints latency (median and p99 over all
rounds x clients; the last client of each round), the ratio Lockstep / Node, the server's CPU
time per round and its memory, and writes everything to bench/out/fanout-<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "bench" / "out"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True)
class Target:
    key: str
    label: str
    kind: str  # "lockstep" or "node"
    deflate: bool


TARGETS = {
    t.key: t
    for t in (
        Target("lockstep-deflate-on", "lockstep, deflate on", "lockstep", True),
        Target("lockstep-deflate-off", "lockstep, deflate off", "lockstep", False),
        Target("node", "node reference", "node", False),
        Target("node-deflate-on", "node reference, deflate on", "node", True),
    )
}
DEFAULT_TARGETS = "lockstep-deflate-on,lockstep-deflate-off,node"


class TargetFailed(Exception):
    pass


# --- processes -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _raise_nofile(n: int) -> str:
    """Room for n sockets (each process inherits the limit): raise the soft limit if needed."""
    want = n + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(hard, max(want, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    note = f"open files: soft limit {soft}, hard {hard}"
    if soft != resource.RLIM_INFINITY and soft < want:
        note += f" (below the {want} wanted: connections may fail)"
    return note


@dataclasses.dataclass
class ProcSample:
    cpu: float  # seconds, user + system, including reaped children
    rss: int  # bytes
    hwm: int  # peak RSS, bytes


def _sample(pid: int) -> ProcSample | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # fields[0] is field 3 (state) of proc(5)
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    mem = {}
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            mem[key] = int(value.split()[0]) * 1024
    cpu = (utime + stime + cutime + cstime) / CLK_TCK
    return ProcSample(cpu, mem.get("VmRSS", 0), mem.get("VmHWM", 0))


class Server:
    """A server process under test, its log in a file, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.cmd, self.log_path = cmd, log
        self._log = open(log, "wb")  # noqa: SIM115  (closed in stop())
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"    | {ln}" for ln in text[-lines:])

    def wait_healthy(self, url: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise TargetFailed(
                    f"server exited with status {self.proc.returncode} before it was healthy:\n"
                    + self.log_tail()
                )
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as res:  # noqa: S310
                    body: dict[str, Any] = json.loads(res.read())
                tracks = (body.get("library") or {}).get("tracks") or 0
                if tracks > 0:
                    return body
                last = f"healthy, library.tracks = {tracks}"
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}"
            except (OSError, ValueError) as e:
                last = str(e)
            time.sleep(0.2)
        raise TargetFailed(f"/health not ready after {timeout:.0f} s ({last}):\n" + self.log_tail())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def _lockstep_cmd() -> list[str]:
    here = Path(sys.executable).parent / "lockstep"
    return [str(here if here.exists() else REPO / ".venv" / "bin" / "lockstep"), "run"]


def start_server(target: Target, work: Path, payload: Path | None) -> tuple[Server, str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")}
    if target.kind == "lockstep":
        music, data = work / "music", work / "data"
        music.mkdir()
        data.mkdir()
        env.update(
            MUSIC_DIR=str(music),
            DATA_DIR=str(data),
            HOST="127.0.0.1",
            PORT=str(port),
            LOG_LEVEL="WARNING",
            RESCAN_INTERVAL="0",
            CONNECT_RATE_LIMIT="100000/minute",
            WS_PER_MESSAGE_DEFLATE="true" if target.deflate else "false",
        )
        for key in ("PUBLIC_URL", "SECRET_KEY", "CORS_ORIGINS"):
            env.pop(key, None)
        cmd = _lockstep_cmd()
    else:
        cmd = [_node(), str(HERE / "reference_server.mjs"), "--port", str(port)]
        if target.deflate:
            cmd.append("--deflate")
        if payload is not None:
            cmd += ["--payload", str(payload)]
    # cwd: the work dir, so a developer's .env in the repo does not leak into the run.
    return Server(cmd, env, work, work / "server.log"), url


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed: run `make node-deps`")
    return node


# --- one target ------------------------------------------------------------------------------


def run_target(
    target: Target, args: argparse.Namespace, work: Path, payload: Path | None
) -> dict[str, Any]:
    work.mkdir()
    server, url = start_server(target, work, payload)
    samples: dict[str, ProcSample | None] = {}
    try:
        started = time.monotonic()
        health = server.wait_healthy(url, args.start_timeout)
        startup = time.monotonic() - started
        samples["ready"] = _sample(server.proc.pid)
        result = _drive(url, args, server, samples)
        samples["end"] = _sample(server.proc.pid)
    finally:
        server.stop()
    result.update(
        target=target.key,
        label=target.label,
        kind=target.kind,
        deflate=target.deflate,
        server_cmd=shlex.join(server.cmd),
        startup_seconds=startup,
        library_tracks=health["library"]["tracks"],
        server=_server_figures(samples, args),
    )
    return result


def _drive(
    url: str, args: argparse.Namespace, server: Server, samples: dict[str, ProcSample | None]
) -> dict[str, Any]:
    cmd = [
        _node(),
        str(HERE / "clients.mjs"),
        f"--url={url}",
        f"--n={args.n}",
        f"--workers={args.workers}",
        f"--rounds={args.rounds}",
        f"--warmup={args.warmup}",
        f"--gap-ms={args.gap_ms}",
        f"--timeout-ms={args.timeout_ms}",
        f"--connect-concurrency={args.connect_concurrency}",
    ]
    if args.raw:
        cmd.append("--raw")
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    errors: list[str] = []

    def forward() -> None:  # live progress on our stderr; keep the failure line
        assert proc.stderr is not None
        for line in proc.stderr:
            sys.stderr.write(line)
            if line.startswith("fanout: "):
                errors.append(line.removeprefix("fanout: ").strip())

    relay = threading.Thread(target=forward, daemon=True)
    relay.start()
    result: dict[str, Any] | None = None
    assert proc.stdout is not None
    for line in proc.stdout:
        msg = json.loads(line)
        if "phase" in msg:
            samples[msg["phase"]] = _sample(server.proc.pid)
        elif "result" in msg:
            result = msg["result"]
    proc.wait()
    relay.join(timeout=5)
    if proc.returncode != 0 or result is None:
        why = errors[-1] if errors else f"clients exited with status {proc.returncode}"
        if server.proc.poll() is not None:
            why += f"; the server exited with status {server.proc.returncode}"
        raise TargetFailed(why)
    return result


def _server_figures(samples: dict[str, ProcSample | None], args: argparse.Namespace) -> Any:
    ready, joined = samples.get("ready"), samples.get("joined")
    begin, end = samples.get("rounds_begin"), samples.get("end")
    last = samples.get("rounds_end")
    out: dict[str, Any] = {}
    if ready and end:
        out["cpu_total_s"] = end.cpu
        out["peak_rss"] = end.hwm
        out["rss_ready"] = ready.rss
    if ready and joined:
        out["cpu_join_s"] = joined.cpu - ready.cpu
        out["rss_joined"] = joined.rss
        out["rss_per_connection"] = (joined.rss - ready.rss) / (args.n + 1)
    if begin and last:
        out["cpu_rounds_s"] = last.cpu - begin.cpu
        out["cpu_per_round_ms"] = (last.cpu - begin.cpu) * 1000 / args.rounds
    return out


# --- the report ------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("python-socketio", "python-engineio", "uvicorn", "websockets"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    node = shutil.which("node")
    if node:
        out["node"] = subprocess.run(
            [node, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    for pkg in ("socket.io", "socket.io-client"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            manifest = REPO / "node_modules" / pkg / "package.json"
            out[pkg] = json.loads(manifest.read_text())["version"]
    return out


def _machine() -> str:
    model = platform.machine()
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo", encoding="utf-8") as f:
        model = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.system()} {platform.release()}; {model}; {usable} usable cpus"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}x"


def _mb(x: float | None) -> str:
    return "-" if x is None else f"{x / 2**20:.1f} MB"


def report(
    results: list[dict[str, Any]], failures: dict[str, str], args: argparse.Namespace
) -> None:
    ok = [r for r in results if "latency_ms" in r]
    node = next((r for r in ok if r["kind"] == "node" and not r["deflate"]), None)
    node = node or next((r for r in ok if r["kind"] == "node"), None)

    print()
    print(
        f"latency, ms: command sent by the controller -> `playback` received, {args.n} clients, "
        f"{args.rounds} rounds after {args.warmup} warm-up"
    )
    head = (
        f"{'target':<27} {'payload':>7} {'median':>7} {'p90':>7} {'p99':>7} {'max':>7} "
        f"{'last/rd':>8} {'worst':>7} {'ack':>6}  {'vs node: median':>15} {'p99':>6} "
        f"{'last/rd':>8}"
    )
    print(head)
    print("-" * len(head))
    for key in args.targets:
        if key in failures:
            print(f"{TARGETS[key].label:<27} FAILED: {failures[key].splitlines()[0]}")
            continue
        r = next(x for x in ok if x["target"] == key)
        lat, last = r["latency_ms"], r["last_client_ms"]
        acks = [x["ack_ms"] for x in r["per_round"] if not x["warmup"] and x["ack_ms"] is not None]
        vs = ("", "", "")
        if node is not None and r is not node:
            nl, nlast = node["latency_ms"], node["last_client_ms"]
            vs = (
                _ratio(lat["median"], nl["median"]),
                _ratio(lat["p99"], nl["p99"]),
                _ratio(last["median"], nlast["median"]),
            )
        payload = f"{r['payload_bytes']} B" if r.get("payload_bytes") else "-"
        print(
            f"{r['label']:<27} {payload:>7} {_ms(lat['median']):>7} {_ms(lat['p90']):>7} "
            f"{_ms(lat['p99']):>7} {_ms(lat['max']):>7} {_ms(last['median']):>8} "
            f"{_ms(last['max']):>7} {_ms(statistics.median(acks) if acks else None):>6}  "
            f"{vs[0]:>15} {vs[1]:>6} {vs[2]:>8}"
        )
    print(
        "median, p90, p99, max: over all rounds x clients. last/rd: median over rounds of the "
        "time until the\nlast client had it; worst: the slowest round. ack: median time until "
        "the controller's ack. vs node: Lockstep / Node."
    )

    if not ok:
        return
    print()
    print("server process")
    head = (
        f"{'target':<27} {'cpu/round':>9} {'cpu join':>9} {'cpu total':>9} {'RSS idle':>9} "
        f"{'RSS joined':>10} {'per conn':>9} {'peak RSS':>9} {'join s':>7} {'start s':>7}  "
        "ws extensions"
    )
    print(head)
    print("-" * len(head))
    for r in ok:
        s = r["server"]
        per_conn = s.get("rss_per_connection")
        print(
            f"{r['label']:<27} {_ms(s.get('cpu_per_round_ms')) + ' ms':>9} "
            f"{s.get('cpu_join_s', 0):8.2f}s {s.get('cpu_total_s', 0):8.2f}s "
            f"{_mb(s.get('rss_ready')):>9} {_mb(s.get('rss_joined')):>10} "
            f"{'-' if per_conn is None else f'{per_conn / 1024:.1f} KB':>9} "
            f"{_mb(s.get('peak_rss')):>9} {r['join_seconds']:7.1f} {r['startup_seconds']:7.1f}  "
            f"{r['extensions'] or '(none)'}"
        )
    print(
        "cpu/round: server CPU time (user + system) from the first to the last measured round, "
        "per round\n(gaps included); cpu join: while the clients connected and joined; per "
        "conn: (RSS joined - RSS idle) / clients."
    )

    print()
    print("last client per round, ms")
    cols = ok
    print(f"{'round':>5} {'action':<7}" + "".join(f" {r['target']:>21}" for r in cols))
    measured = [[x for x in r["per_round"] if not x["warmup"]] for r in cols]
    for i in range(args.rounds):
        action = measured[0][i]["action"]
        cells = "".join(f" {_ms(m[i]['last_ms']):>21}" for m in measured)
        print(f"{i + 1:>5} {action:<7}{cells}")

    print()
    print(f"events the {args.n} clients received over the whole run, joining included")
    for r in ok:
        counts = sorted(r["client_events"].items(), key=lambda kv: -kv[1])
        cells = ", ".join(f"{name} {count:,}" for name, count in counts)
        print(f"  {r['label']:<27} {cells}")

    for r in ok:
        for err in r["ack_errors"]:
            print(f"{r['label']}: round {err['round']} {err['action']}: ack {err['ack']}")
        skew = [x for x in r["per_round"] if len(x["versions"]) != 1]
        for x in skew:
            print(f"{r['label']}: round {x['round']}: clients saw versions {x['versions']}")


# --- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description="Socket.IO fan-out benchmark: Lockstep against a minimal Node server.",
    )
    parser.add_argument("--n", type=int, default=1000, help="clients in the room (default 1000)")
    parser.add_argument("--rounds", type=int, default=20, help="measured rounds (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up rounds (default 3)")
    parser.add_argument("--workers", type=int, default=4, help="client processes (default 4)")
    parser.add_argument(
        "--targets",
        default=DEFAULT_TARGETS,
        help=f"comma-separated, from {', '.join(TARGETS)} (default {DEFAULT_TARGETS})",
    )
    parser.add_argument("--gap-ms", type=int, default=200, help="pause between rounds")
    parser.add_argument("--timeout-ms", type=int, default=30_000, help="per round and per ack")
    parser.add_argument("--connect-concurrency", type=int, default=64, help="handshakes at once")
    parser.add_argument("--start-timeout", type=float, default=120.0, help="server start, s")
    parser.add_argument("--raw", action="store_true", help="every latency into the JSON file")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/out/fanout-<time>)")
    args = parser.parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown or not targets:
        parser.error(f"unknown target(s) {unknown}: choose from {', '.join(TARGETS)}")
    if args.n < 1 or args.rounds < 1 or args.warmup < 0 or args.workers < 1:
        parser.error("--n, --rounds and --workers must be at least 1, --warmup at least 0")
    # Lockstep first: the reference server then copies the payload Lockstep sent.
    args.targets = sorted(targets, key=lambda t: TARGETS[t].kind != "lockstep")

    _node()
    if not (REPO / "node_modules" / "socket.io-client").is_dir():
        raise SystemExit("node_modules is missing: run `make node-deps` (or npm ci)")

    command = shlex.join(
        [sys.executable, "-m", "bench.fanout", *(sys.argv[1:] if argv is None else argv)]
    )
    versions = _versions()
    print(f"command : {command}")
    print(f"machine : {_machine()}")
    print("software: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"limits  : {_raise_nofile(args.n)}")
    print(
        f"scenario: {args.n} clients in one room over {args.workers} node processes "
        f"(socket.io-client, websocket only); {args.warmup} warm-up + {args.rounds} rounds of "
        f"control play/pause, {args.gap_ms} ms apart; targets {', '.join(args.targets)}"
    )

    results: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    payload: Path | None = None
    with tempfile.TemporaryDirectory(prefix="lockstep-fanout-") as tmp:
        for key in args.targets:
            target = TARGETS[key]
            print(f"\n== {target.label}", file=sys.stderr, flush=True)
            try:
                result = run_target(target, args, Path(tmp) / key, payload)
            except TargetFailed as e:
                failures[key] = str(e)
                early = any(w in str(e) for w in ("connect_error", "join_room", "HTTP 404"))
                hint = (
                    "\n  (is Lockstep's Socket.IO protocol in place yet? see docs/protocol.md)"
                    if target.kind == "lockstep" and early
                    else ""
                )
                print(f"  {target.label}: FAILED: {e}{hint}", file=sys.stderr, flush=True)
                continue
            results.append(result)
            if target.kind == "lockstep" and payload is None and result.get("sample_payload"):
                payload = Path(tmp) / "lockstep-payload.json"
                payload.write_text(json.dumps(result["sample_payload"]))

    report(results, failures, args)
    if payload is None and any(TARGETS[t].kind == "node" for t in args.targets):
        print("\nnote: no Lockstep payload to copy; the reference sent its built-in template.")

    out = args.out or OUT / f"fanout-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "command": command,
        "machine": _machine(),
        "versions": versions,
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "results": results,
        "failures": failures,
    }
    out.write_text(json.dumps(doc, indent=1))
    print(f"\nfigures : {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 1 if failures else 0
