"""Fixtures shared by the whole suite."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def demo_tracks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The synthesized demo tracks (real tagged MP3s), made once per test session."""
    from shared.library.demo import ensure_demo_tracks

    return ensure_demo_tracks(tmp_path_factory.mktemp("demo"))
