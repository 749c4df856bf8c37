"""Sync bench: how far apart two browsers in one room actually sound, measured at the output.

    .venv/bin/python -m bench.sync [--modes webaudio,element] [--page auto|real|harness]

For each output mode: start Lockstep (`lockstep run`, a pink-noise library, fresh data), a
private PulseAudio whose recording sink has one browser on its left channel and one on its
right, and two separate headless Chromium processes in one room. A third client (python-socketio)
drives the room: play, pause, resume, three seeks, a listener leaving and joining again mid-track,
a skip to the next track. `parec` records the sink; cross-correlating left against right over
100 ms windows gives the output offset every 50 ms. It prints, per command, the time from the
command's effect time until the outputs are in step (|offset| <= 5 ms from then on) and the
median / p95 |offset| once settled, the late joiner's time from opening the page to in step, and
what the pages' own clocks (the engine's debug()) say. Figures and how to reproduce them:
bench/sync/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import socketio
from playwright.async_api import Browser, Page, Playwright, async_playwright

from .audio import Pulse, Recorder, Window, offsets, pink_noise

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(tempfile.gettempdir()) / "lockstep-bench-sync"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
IN_STEP_MS = 5.0  # |offset| at or below this counts as in step (the p95 target)
TRACK_SECONDS = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Static:
    """Serves the bench's own listener page, the engine and the vendored socket.io client (only
    those) for as long as the server has no player page of its own."""

    ALLOWED = ("/bench/sync/harness/", "/webapp/static/js/", "/node_modules/socket.io-client/dist/")

    def __init__(self) -> None:
        allowed = self.ALLOWED

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                if not self.path.startswith(allowed):
                    self.send_error(404)
                    return
                super().do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(
            ("127.0.0.1", self.port), partial(Handler, directory=str(ROOT))
        )
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()


class Lockstep:
    """The real server as a separate process, on the same monotonic clock as this bench."""

    def __init__(self, music: Path, data: Path, cors: str) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "MUSIC_DIR": str(music),
            "DATA_DIR": str(data),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "WARNING",
            "CORS_ORIGINS": cors,
            "RESCAN_INTERVAL": "0",
        }
        self.proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "lockstep"), "run"], env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("lockstep exited at start-up")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("lockstep did not come up")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def has_player_page(self, room: str) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            res = httpx.get(f"{self.url}/r/{room}", timeout=5)
            return res.status_code == 200 and "<html" in res.text[:4096].lower()
        return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Listener:
    name: str
    sink: str
    browser: Browser | None = None
    page: Page | None = None
    debug: list[dict[str, Any]] = field(default_factory=list)
    opened_at: float = 0.0


@dataclass
class Run:
    mode: str
    page_kind: str
    marks: list[tuple[str, float]] = field(default_factory=list)  # (command, effect server time)
    rejoin_open: float | None = None
    windows: list[Window] = field(default_factory=list)
    debug: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)
    memory: dict[str, int] = field(default_factory=dict)
    nice: int = 0  # the browsers' and PulseAudio's scheduling priority


def renice_ours(marker: bytes, nice: int) -> None:
    """Set the priority of every process whose environment holds `marker` (our PulseAudio's
    socket path: the bench's browsers, PulseAudio, parec) and of all their descendants (Chromium's
    renderers and audio service, whose environment the zygote clears). Chromium sets its child
    processes' priorities itself, so this is repeated while the bench runs."""
    parent: dict[int, int] = {}
    marked: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(entry.name)
            stat = (entry / "stat").read_text()
            parent[pid] = int(stat[stat.rindex(")") + 2 :].split()[1])
            if marker in (entry / "environ").read_bytes():
                marked.add(pid)
    for pid in parent:
        p, seen = pid, 0
        while p in parent and p not in marked and seen < 64:
            p, seen = parent[p], seen + 1
        if p in marked:
            with contextlib.suppress(OSError):
                if os.getpriority(os.PRIO_PROCESS, pid) != nice:
                    os.setpriority(os.PRIO_PROCESS, pid, nice)


class Bench:
    def __init__(
        self, pw: Playwright, pulse: Pulse, server: Lockstep, static: Static, nice: int = 0
    ) -> None:
        self.pw, self.pulse, self.server, self.static = pw, pulse, server, static
        self.nice = nice

    def page_url(self, kind: str, room: str, name: str, mode: str) -> str:
        if kind == "real":
            return f"{self.server.url}/r/{room}"
        return (
            f"{self.static.origin}/bench/sync/harness/index.html?server={self.server.url}"
            f"&room={room}&name={name}&mode={mode}"
        )

    async def open(self, who: Listener, kind: str, room: str, mode: str) -> None:
        env: dict[str, str | float | bool] = {
            **os.environ,
            **self.pulse.env,
            "PULSE_SINK": who.sink,
        }
        who.browser = await self.pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            ignore_default_args=["--mute-audio"],
            env=env,
        )
        context = await who.browser.new_context(bypass_csp=True)  # page.evaluate needs eval
        # The real page reads the listener's name and the engine's mode override from storage.
        await context.add_init_script(
            f"localStorage.setItem('lockstep.name', {json.dumps(who.name)});"
            f"localStorage.setItem('lockstep.syncMode', {json.dumps(mode)});"
        )
        who.page = await context.new_page()
        who.page.on("pageerror", lambda exc: print(f"[{who.name}] page error: {exc}", flush=True))
        who.opened_at = time.monotonic()
        await who.page.goto(self.page_url(kind, room, who.name, mode))
        await who.page.wait_for_function(
            "window.__lockstepSync && window.__lockstepSync.debug().ready", timeout=20_000
        )

    async def close(self, who: Listener) -> None:
        if who.browser:
            await who.browser.close()
        who.browser = who.page = None

    async def renice(self, stop: asyncio.Event) -> None:
        marker = self.pulse.env["PULSE_SERVER"].encode()
        while self.nice and not stop.is_set():
            await asyncio.to_thread(renice_ours, marker, self.nice)
            await asyncio.sleep(0.5)

    async def poll(self, who: Listener, stop: asyncio.Event) -> None:
        """The page's own view, every 200 ms: its server clock and where its output is."""
        while not stop.is_set():
            page = who.page
            if page is not None:
                with contextlib.suppress(Exception):
                    d = await page.evaluate(
                        "(() => { const d = window.__lockstepSync?.debug();"
                        " return d && {"
                        " ...d, epochMs: performance.timeOrigin + d.localNow * 1000 };"
                        " })()"
                    )
                    if d:
                        d["bench_wall"] = time.time()
                        d["bench_mono"] = time.monotonic()
                        who.debug.append(d)
            await asyncio.sleep(0.2)

    async def run(self, mode: str, kind: str, room: str) -> Run:
        result = Run(mode, kind)
        a, b = Listener("Left", "left"), Listener("Right", "right")
        sio = socketio.AsyncClient()
        await sio.connect(self.server.url, transports=["websocket"])

        async def call(event: str, data: dict[str, Any]) -> dict[str, Any]:
            ack: dict[str, Any] = await sio.call(event, data, timeout=10)
            if not ack.get("ok"):
                raise RuntimeError(f"{event} {data}: {ack}")
            return ack

        async def command(label: str, **data: Any) -> None:
            ack = await call("control", data)
            result.marks.append((label, float(ack["at"])))
            print(f"  {label:<10} takes effect at +{ack['at'] - started:.2f} s", flush=True)

        joined = await call("join_room", {"room": room, "name": "Bench"})
        await call("set_policy", {"autoplay": False})
        tracks = await call("rooms", {})  # warm the connection
        del tracks, joined
        async with httpx.AsyncClient() as http:
            library = (await http.get(f"{self.server.url}/api/tracks?limit=10")).json()
        ids = [t["id"] for t in sorted(library["tracks"], key=lambda t: t["title"])]
        await call("queue", {"action": "add", "track_ids": ids[:2]})

        recorder = Recorder(self.pulse.env)
        recorder.start()
        stop = asyncio.Event()
        result.load = (os.getloadavg()[0], 0.0)
        started = time.monotonic()
        pollers = [asyncio.create_task(self.renice(stop))]
        try:
            await asyncio.gather(self.open(a, kind, room, mode), self.open(b, kind, room, mode))
            pollers += [asyncio.create_task(self.poll(x, stop)) for x in (a, b)]
            await asyncio.sleep(1)
            await command("play", action="play")
            await asyncio.sleep(8)
            await command("pause", action="pause")
            await asyncio.sleep(3)
            await command("resume", action="resume")
            await asyncio.sleep(6)
            for label, pos in (("seek 150", 150.0), ("seek 20", 20.0), ("seek 95", 95.0)):
                await command(label, action="seek", position=pos)
                await asyncio.sleep(6)
            # A listener who leaves, then opens the page again mid-track.
            await self.close(b)
            result.marks.append(("(right left)", time.monotonic()))
            await asyncio.sleep(2)
            rejoin = asyncio.create_task(self.open(b, kind, room, mode))
            await rejoin
            result.rejoin_open = b.opened_at
            await asyncio.sleep(8)
            await command("skip", action="skip")
            await asyncio.sleep(6)
            for who in (a, b):
                if who.page:
                    d = await who.page.evaluate("window.__lockstepSync.debug()")
                    result.memory[f"{who.name} decoded"] = int(d.get("decodedBytes") or 0)
                    result.memory[f"{who.name} total"] = int(d.get("memoryBytes") or 0)
        finally:
            stop.set()
            rec = recorder.stop()
            for who in (a, b):
                await self.close(who)
            await sio.disconnect()
        result.load = (result.load[0], os.getloadavg()[0])
        assert recorder.t0 is not None
        result.windows = offsets(rec, recorder.t0)
        result.debug = {a.name: a.debug, b.name: b.debug}
        for task in pollers:
            task.cancel()
        result.marks.sort(key=lambda m: m[1])
        return result


# ---- analysis ---------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


HOLD_S = 1.0  # in step for this long (or until the next command) counts as settled


def settle(windows: list[Window], start: float, end: float, expect_sound: bool) -> float | None:
    """Seconds after `start` until the outputs are in step (both playing within IN_STEP_MS, or
    both silent when the command silences the room) and stay so for HOLD_S or until `end`."""
    span = [w for w in windows if start - 0.05 <= w.t < end]

    def good(w: Window) -> bool:
        if not expect_sound:
            return w.kind == "silent"
        return w.kind == "both" and abs(w.offset_ms or 0) <= IN_STEP_MS

    for i, w in enumerate(span):
        if not good(w):
            continue
        hold = [x for x in span[i:] if x.t < min(w.t + HOLD_S, end)]
        if all(good(x) for x in hold):
            return max(0.0, w.t - start)
    return None


@dataclass
class Phase:
    label: str
    start: float
    end: float
    settle_s: float | None
    offsets: list[float]  # signed offsets (ms) of the windows after settling, glitches included
    dropouts: int = 0  # windows after settling where only one of the two outputs sounded


def analyse(run: Run) -> tuple[list[Phase], dict[str, Any]]:
    phases: list[Phase] = []
    marks = run.marks
    end_all = run.windows[-1].t if run.windows else 0.0
    for i, (label, at) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else end_all
        sound = label not in ("pause", "(right left)")
        if label == "(right left)":
            phases.append(Phase(label, at, end, None, []))
            continue
        s = settle(run.windows, at, end, sound)
        vals: list[float] = []
        drops = 0
        if s is not None and sound:
            after = [w for w in run.windows if at + s <= w.t < end]
            vals = [w.offset_ms for w in after if w.offset_ms is not None]
            drops = sum(w.kind in ("left", "right") for w in after)
        phases.append(Phase(label, at, end, s, vals, drops))
    summary: dict[str, Any] = {}
    # The late joiner: from opening the page to in step until the next command.
    if run.rejoin_open is not None:
        nxt = next((at for _, at in marks if at > run.rejoin_open), end_all)
        s = settle(run.windows, run.rejoin_open, nxt, True)
        summary["rejoin_s"] = s
        vals = [
            w.offset_ms
            for w in run.windows
            if s is not None and run.rejoin_open + s <= w.t < nxt and w.offset_ms is not None
        ]
        phases.append(Phase("rejoin", run.rejoin_open, nxt, s, vals))
    # Every window from 1 s after each effect time, settled or not: the fair comparison.
    late = [
        abs(w.offset_ms)
        for p in phases
        if p.label not in ("pause", "(right left)")
        for w in run.windows
        if p.start + HOLD_S <= w.t < p.end and w.offset_ms is not None
    ]
    summary["all_median_ms"] = pct(late, 50)
    summary["all_p95_ms"] = pct(late, 95)
    summary["all_windows"] = len(late)
    settled = [abs(v) for p in phases for v in p.offsets]
    summary["median_ms"] = pct(settled, 50)
    summary["p95_ms"] = pct(settled, 95)
    summary["max_ms"] = max(settled) if settled else None
    summary["windows"] = len(settled)
    summary["settle_max_s"] = max(
        (p.settle_s for p in phases if p.settle_s is not None and p.label != "rejoin"), default=None
    )
    summary["unsettled"] = [
        p.label for p in phases if p.settle_s is None and p.label != "(right left)"
    ]
    summary |= page_view(run)
    return phases, summary


def page_view(run: Run) -> dict[str, Any]:
    """What the pages' own clocks say: each page's server-clock error (its estimate against the
    server's true monotonic time, which this bench shares) and the output offset between the
    pages computed from their debug() (output position vs the room, A minus B)."""
    out: dict[str, Any] = {}
    mono_minus_wall = time.monotonic() - time.time()
    errs: dict[str, list[float]] = {}
    drift: dict[str, list[tuple[float, float]]] = {}
    for name, rows in run.debug.items():
        e, d = [], []
        for r in rows:
            if r.get("serverNow") is None:
                continue
            true_now = r["epochMs"] / 1000 + mono_minus_wall
            e.append((r["serverNow"] - true_now) * 1000)
            if r.get("outputPosition") is not None and r.get("target") is not None:
                d.append((r["serverNow"], (r["outputPosition"] - r["target"]) * 1000))
        errs[name] = e
        drift[name] = d
    for name, e in errs.items():
        out[f"clock_err_{name}_ms"] = pct(e, 50)
    names = list(drift)
    if len(names) == 2:
        a, b = (sorted(drift[n]) for n in names)
        diffs = []
        j = 0
        for t, va in a:
            while j + 1 < len(b) and abs(b[j + 1][0] - t) <= abs(b[j][0] - t):
                j += 1
            if b and abs(b[j][0] - t) < 0.15:
                diffs.append(abs(va - b[j][1]))
        out["page_offset_median_ms"] = pct(diffs, 50)
        out["page_offset_p95_ms"] = pct(diffs, 95)
    return out


def fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def report(runs: list[tuple[Run, list[Phase], dict[str, Any]]]) -> str:
    lines = []
    for run, phases, s in runs:
        load = f"loadavg {run.load[0]:.2f} -> {run.load[1]:.2f}, nice {run.nice}"
        lines.append(f"\nmode {run.mode} (page: {run.page_kind}; {load})")
        head = (
            f"{'command':<13}{'settle s':>9}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}"
            f"{'windows':>9}{'>5 ms':>7}{'dropouts':>10}"
        )
        lines.append(f"  {head}")
        for p in phases:
            if p.label == "(right left)":
                continue
            absv = [abs(v) for v in p.offsets]
            lines.append(
                f"  {p.label:<13}{fmt(p.settle_s):>9}{fmt(pct(absv, 50)):>11}"
                f"{fmt(pct(absv, 95)):>9}{fmt(max(absv, default=None)):>9}{len(absv):>9}"
                f"{sum(v > IN_STEP_MS for v in absv):>7}{p.dropouts:>10}"
            )
        lines.append(
            f"  settled, all commands: median {fmt(s['median_ms'])} ms, p95 {fmt(s['p95_ms'])} ms,"
            f" max {fmt(s['max_ms'])} ms over {s['windows']} windows of 100 ms"
        )
        lines.append(
            f"  every window from 1 s after each effect time: median {fmt(s['all_median_ms'])} ms,"
            f" p95 {fmt(s['all_p95_ms'])} ms over {s['all_windows']} windows"
        )
        lines.append(
            f"  slowest settle {fmt(s['settle_max_s'])} s after the effect time;"
            f" late joiner in step {fmt(s.get('rejoin_s'))} s after opening the page"
            + (f"; never settled: {', '.join(s['unsettled'])}" if s["unsettled"] else "")
        )
        clock = ", ".join(
            f"{k[10:-3]} {fmt(v, 3)} ms" for k, v in s.items() if k.startswith("clock_err_")
        )
        lines.append(
            f"  pages' own view: output offset median {fmt(s.get('page_offset_median_ms'))} ms,"
            f" p95 {fmt(s.get('page_offset_p95_ms'))} ms; clock error vs server: {clock}"
        )
        if run.memory:
            mem = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in run.memory.items())
            lines.append(f"  audio held by the engine at the end: {mem}")
    return "\n".join(lines)


def reanalyse(path: Path) -> int:
    """Print the report of a saved run again (after changing the analysis)."""
    results = []
    for r in json.loads(path.read_text()):
        run = Run(r["mode"], r["page"], [tuple(m) for m in r["marks"]], r["rejoin_open"])
        run.windows = [Window(*w) for w in r["windows"]]
        run.debug, run.load, run.memory = r["debug"], tuple(r["load"]), r.get("memory", {})
        run.nice = r.get("nice", 0)
        results.append((run, *analyse(run)))
    print(report(results))
    return 0


async def main_async(args: argparse.Namespace) -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    music = WORK / "music"
    for seed in (1, 2):
        pink_noise(music / f"pink-{seed}.mp3", TRACK_SECONDS, seed)
    nice = args.nice if os.geteuid() == 0 else max(0, args.nice)
    pulse = Pulse(WORK)
    pulse.start()
    static = Static()
    results = []
    try:
        async with async_playwright() as pw:
            for n, mode in enumerate(args.modes.split(",")):
                data = WORK / f"data-{mode}"
                shutil.rmtree(data, ignore_errors=True)
                server = Lockstep(music, data, static.origin)
                try:
                    room = f"bench-{mode}-{n}"
                    kind = args.page
                    if kind == "auto":
                        kind = "real" if server.has_player_page(room) else "harness"
                    load = os.getloadavg()[0]
                    print(f"mode {mode}: page {kind}, loadavg {load:.2f}, nice {nice}", flush=True)
                    run = await Bench(pw, pulse, server, static, nice).run(mode, kind, room)
                    run.nice = nice
                finally:
                    server.stop()
                phases, summary = analyse(run)
                results.append((run, phases, summary))
    finally:
        static.stop()
        pulse.stop()
    text = report(results)
    print(text)
    out = WORK / "last-run.json"
    out.write_text(
        json.dumps(
            [
                {
                    "mode": r.mode,
                    "page": r.page_kind,
                    "load": r.load,
                    "nice": r.nice,
                    "memory": r.memory,
                    "summary": s,
                    "marks": r.marks,
                    "rejoin_open": r.rejoin_open,
                    "windows": [[w.t, w.kind, w.offset_ms, w.peak] for w in r.windows],
                    "debug": r.debug,
                    "phases": [
                        {"label": p.label, "settle_s": p.settle_s, "offsets_ms": p.offsets}
                        for p in ph
                    ],
                }
                for r, ph, s in results
            ],
            indent=1,
        )
    )
    print(f"\nfigures: {out}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="webaudio,element")
    parser.add_argument("--page", choices=("auto", "real", "harness"), default="auto")
    parser.add_argument("--analyse", type=Path, help="report a saved run (last-run.json) again")
    parser.add_argument(
        "--nice",
        type=int,
        default=-10,
        help="priority of the browsers and PulseAudio (as root; 0 = as everything else). A desktop"
        " gives audio threads real-time priority; here other work competes with them",
    )
    args = parser.parse_args()
    if args.analyse:
        return reanalyse(args.analyse)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
