"""Fixtures for the library tests: the session's audio kit, a music folder, libraries."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from audio_kit import Kit, MakeLibrary, build_kit

from shared.library import Library


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    return build_kit(tmp_path_factory.mktemp("audio-kit"))


@pytest.fixture
def make_library(tmp_path: Path) -> Iterator[MakeLibrary]:
    """Library factory; every library made is closed after the test."""
    made: list[Library] = []

    def make(roots: Mapping[str, Path] | None = None, name: str = "library") -> Library:
        lib = Library(
            tmp_path / "state" / f"{name}.sqlite3",
            roots if roots is not None else {"music": tmp_path / "music"},
            tmp_path / "state" / f"{name}-covers",
        )
        made.append(lib)
        return lib

    yield make
    for lib in made:
        lib.close()


@pytest.fixture
def music(tmp_path: Path) -> Path:
    path = tmp_path / "music"
    path.mkdir()
    return path
