"""A listener joining late into a long track over a slow link: time from opening the page to sound.

    .venv/bin/python -m bench.sync.slowjoin [--kbps 4000,1000] [--at 180]

Starts Lockstep with the bench's pink-noise library, plays the first track and seeks to `--at`
seconds, then opens the player page in one headless Chromium whose network Chromium itself
throttles (DevTools network emulation: the given downlink, 20 ms latency). It prints when the
engine's output first plays and how far it is from the room's position then and a second later.
No audio is recorded: the engine's own view suffices here (bench.sync checks that view against
the output).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
from typing import Any

import httpx
import socketio
from playwright.async_api import async_playwright

from .audio import pink_noise
from .run import CHROMIUM, CHROMIUM_ARGS, TRACK_SECONDS, WORK, Lockstep, Static


async def join_once(url: str, room: str, kbps: int) -> dict[str, Any]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(bypass_csp=True)
            await context.add_init_script("localStorage.setItem('lockstep.name', 'Slow')")
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            rate = kbps * 1000 / 8
            await cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": 20,
                    "downloadThroughput": rate,
                    "uploadThroughput": rate,
                },
            )
            opened = time.monotonic()
            await page.goto(f"{url}/r/{room}")
            probe = "window.__lockstepSync && window.__lockstepSync.debug()"
            while time.monotonic() - opened < 60:
                d = await page.evaluate(probe)
                if d and d.get("outputPosition") is not None:
                    first = time.monotonic() - opened
                    break
                await asyncio.sleep(0.05)
            else:
                return {"kbps": kbps, "sound_s": None}
            err_first = (d["outputPosition"] - d["position"]) * 1000
            await asyncio.sleep(1)
            d = await page.evaluate(probe)
            err_later = (d["outputPosition"] - d["position"]) * 1000
            return {"kbps": kbps, "sound_s": first, "err_ms": err_first, "err_1s_ms": err_later}
        finally:
            await browser.close()


async def main_async(args: argparse.Namespace) -> int:
    music = WORK / "music"
    for seed in (1, 2):
        pink_noise(music / f"pink-{seed}.mp3", TRACK_SECONDS, seed)
    static = Static()
    rows = []
    try:
        for n, kbps in enumerate(int(k) for k in args.kbps.split(",")):
            data = WORK / "data-slowjoin"
            shutil.rmtree(data, ignore_errors=True)
            server = Lockstep(music, data, static.origin)
            try:
                sio = socketio.AsyncClient()
                await sio.connect(server.url, transports=["websocket"])
                room = f"slow-{n}"
                await sio.call("join_room", {"room": room, "name": "Bench"})
                await sio.call("set_policy", {"autoplay": False})
                async with httpx.AsyncClient() as http:
                    tracks = (await http.get(f"{server.url}/api/tracks?limit=10")).json()["tracks"]
                first = sorted(tracks, key=lambda t: t["title"])[0]["id"]
                await sio.call("queue", {"action": "add", "track_ids": [first]})
                await sio.call("control", {"action": "play"})
                await asyncio.sleep(0.5)
                await sio.call("control", {"action": "seek", "position": float(args.at)})
                rows.append(await join_once(server.url, room, kbps))
                await sio.disconnect()
            finally:
                server.stop()
    finally:
        static.stop()
    print(f"\njoining at {args.at} s into a 192 kbps track over a throttled link:")
    print(f"  {'downlink':>10} {'sound after':>12} {'error then':>11} {'1 s later':>10}")
    for r in rows:
        if r["sound_s"] is None:
            print(f"  {r['kbps']:>6} kbps {'no sound':>12}")
            continue
        print(
            f"  {r['kbps']:>6} kbps {r['sound_s']:>10.2f} s {r['err_ms']:>8.2f} ms"
            f" {r['err_1s_ms']:>7.2f} ms"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kbps", default="4000,1000")
    parser.add_argument("--at", type=float, default=180.0)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
