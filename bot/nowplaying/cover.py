"""Where the embed's cover art comes from.

Discord fetches embed images itself, from its own servers, so `{base_url}/api/tracks/<id>/cover`
only works when PUBLIC_URL is reachable from the internet. When it is not (localhost, a private
address, a bare host name, the default for development), the cover file is attached to the
message instead and the embed points at `attachment://`. It is attached when the message is
posted or the track changes, never on the edits in between (a pause or a new listener), which
keep the attachment they have. A track without art shows no image: the web player's generated
placeholder is an SVG, which Discord does not display.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

ATTACHMENT_NAME = "cover"  # + the image's extension


@dataclass(frozen=True, slots=True)
class CoverPlan:
    url: str | None  # what the embed points at; None: no image
    attach: bool  # True: send the file with the message as `attachment_name`
    attachment_name: str = ""


def reachable_by_discord(base_url: str) -> bool:
    """Whether Discord's servers could fetch a URL under `base_url`."""
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host  # a bare name like `myserver` only resolves on the local network
    return address.is_global


def cover_plan(base_url: str, track_id: str | None, has_cover: bool, mime: str = "") -> CoverPlan:
    if track_id is None or not has_cover:
        return CoverPlan(url=None, attach=False)
    if reachable_by_discord(base_url):
        return CoverPlan(
            url=f"{base_url}/api/tracks/{quote(track_id, safe='')}/cover", attach=False
        )
    name = ATTACHMENT_NAME + _extension(mime)
    return CoverPlan(url=f"attachment://{name}", attach=True, attachment_name=name)


def _extension(mime: str) -> str:
    return {"image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}.get(mime, ".jpg")
