"""Model files: a crafted pickle never runs, a wrong file gets one line, stale temporaries go."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from atelier.checkpoints import load_checkpoint, save_checkpoint
from atelier.errors import InputError
from atelier.io.atomic import atomic_write


class _Payload:
    """Unpickling this calls ``Path.touch(marker)``: what a malicious shared model would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _crafted(tmp_path: Path, name: str, fmt: str) -> tuple[Path, Path]:
    marker = tmp_path / f"{name}.pwned"
    path = tmp_path / f"{name}.pt"
    torch.save({"format": fmt, "network": {}, "payload": _Payload(marker)}, path)
    assert not marker.exists()
    return path, marker


def test_a_crafted_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    path, marker = _crafted(tmp_path, "style", "atelier-fast-style")
    with pytest.raises(InputError, match="refused"):
        load_checkpoint(path, "atelier-fast-style")
    assert not marker.exists()


def test_crafted_style_and_classifier_files_through_the_cli(tmp_path: Path, photo: Path) -> None:
    env = {**os.environ, "ATELIER_THREADS": "2"}
    style, style_marker = _crafted(tmp_path, "shared-style", "atelier-fast-style")
    model, model_marker = _crafted(tmp_path, "artists", "atelier-classifier")
    for args in (
        ["stylize", str(photo), "--style", str(style), "-o", str(tmp_path / "out.png")],
        ["classify", "predict", str(model), str(photo)],
    ):
        result = subprocess.run([sys.executable, "-m", "atelier", *args], capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 2, result.stderr
        assert "refused" in result.stderr and "Traceback" not in result.stderr
    assert not style_marker.exists() and not model_marker.exists()


def test_a_file_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    from atelier.style.fast.model import load_model

    missing = tmp_path / "missing.pt"
    save_checkpoint({"format": "atelier-fast-style", "name": "x"}, missing)
    with pytest.raises(InputError, match="damaged or incompatible"):
        load_model(missing)
    wrong = tmp_path / "wrong.pt"
    save_checkpoint(
        {
            "format": "atelier-fast-style",
            "name": "x",
            "shape": {"channels": [8, 8, 8], "residual_blocks": 1, "last_channels": 8},
            "network": {"encoder.0.1.weight": torch.zeros(1)},
        },
        wrong,
    )
    with pytest.raises(InputError, match="damaged or incompatible"):
        load_model(wrong)
    other_kind = tmp_path / "gan.pt"
    save_checkpoint({"format": "atelier-gan"}, other_kind)
    with pytest.raises(InputError, match="'atelier-gan' file"):
        load_model(other_kind)


def test_stale_temporary_files_are_cleaned_on_the_next_save(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.pt"
    stale = tmp_path / ".checkpoint.pt.k1ll3d.part"
    stale.write_bytes(b"\0" * 1000)  # what a SIGKILL during a save leaves behind
    unrelated = tmp_path / ".other.pt.abc.part"
    unrelated.write_bytes(b"x")
    save_checkpoint({"format": "x"}, target)
    assert not stale.exists() and unrelated.exists()
    assert load_checkpoint(target, "x") == {"format": "x"}


def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "model.pt"
    save_checkpoint({"format": "x", "v": 1}, target)

    def explode(stream) -> None:
        stream.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, explode)
    assert load_checkpoint(target, "x")["v"] == 1
    assert not list(tmp_path.glob("*.part"))
