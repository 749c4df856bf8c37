"""Placeholder cover art for tracks without any: an SVG record sleeve whose colours come from a
hash of the track id, so each track keeps its own look and neighbouring tracks differ.

The SVG holds no text at all, nothing from tags or the request, no scripts and no external
references: only shapes and colours computed here.
"""

from __future__ import annotations

import colorsys
import hashlib
import math

__all__ = ["PLACEHOLDER_MIME", "placeholder_etag", "placeholder_svg"]

PLACEHOLDER_MIME = "image/svg+xml"
_VERSION = b"1"  # bump when the drawing changes, so cached placeholders are refetched


def _colour(hue: float, lightness: float, saturation: float) -> str:
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def placeholder_svg(seed: str) -> bytes:
    """A 512x512 SVG derived only from `seed` (a track id): a two-colour gradient at one of
    eight angles behind a stylised record with a coloured label."""
    d = hashlib.blake2b(
        _VERSION + seed.encode("utf-8", "surrogatepass"), digest_size=16, person=b"lockstep-cover"
    ).digest()
    hue = int.from_bytes(d[0:2], "big") / 65536
    shift = (0.08 + d[2] / 255 * 0.22) * (1 if d[3] & 1 else -1)
    start = _colour(hue, 0.42 + d[4] / 255 * 0.14, 0.55 + d[5] / 255 * 0.3)
    end = _colour(hue + shift, 0.22 + d[6] / 255 * 0.14, 0.5 + d[7] / 255 * 0.3)
    label = _colour(hue + shift / 2 + 0.5, 0.6 + d[8] / 255 * 0.12, 0.6 + d[9] / 255 * 0.3)
    angle = (d[10] % 8) * math.pi / 4
    x1, y1 = 0.5 - 0.5 * math.cos(angle), 0.5 - 0.5 * math.sin(angle)
    x2, y2 = 1 - x1, 1 - y1
    grooves = "".join(
        f'<circle cx="256" cy="256" r="{r}" fill="none" stroke="#fff" '
        f'stroke-opacity="0.07" stroke-width="2"/>'
        for r in range(84, 168, 14)
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">'
        f'<defs><linearGradient id="g" x1="{x1:.3f}" y1="{y1:.3f}" x2="{x2:.3f}" y2="{y2:.3f}">'
        f'<stop offset="0" stop-color="{start}"/><stop offset="1" stop-color="{end}"/>'
        "</linearGradient></defs>"
        '<rect width="512" height="512" fill="url(#g)"/>'
        '<circle cx="256" cy="256" r="176" fill="#000" fill-opacity="0.28"/>'
        f"{grooves}"
        f'<circle cx="256" cy="256" r="58" fill="{label}"/>'
        '<circle cx="256" cy="256" r="7" fill="#000" fill-opacity="0.45"/>'
        "</svg>"
    )
    return svg.encode("ascii")


def placeholder_etag(svg: bytes) -> str:
    """A strong entity tag (quoted) for a placeholder's bytes."""
    return '"ph-' + hashlib.blake2b(svg, digest_size=10).hexdigest() + '"'
