"""Training on several processes with PyTorch's own engine (torchrun, gloo on CPU).

A tiny fast-style run is the probe: 2 processes with half the batch each must compute the
same update as 1 process with the whole batch, keep identical weights on both ranks, let only
rank 0 write, record the world size, and resume on another number of processes.

"The same update" is checked on the gradients (equal to float rounding), not on weights after
several Adam steps: Adam divides by the gradient's running magnitude, so parameters whose
gradient is pure rounding noise (conv biases before instance norm) take full-size steps of
random sign, and float-level differences grow to 1e-3 within 4 steps (measured in one
process too, by averaging two half-batch gradients).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

WORKER = Path(__file__).with_name("ddp_worker.py")
TORCHRUN = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
pytestmark = pytest.mark.skipif(TORCHRUN is None, reason="torchrun (PyTorch's launcher) is not on PATH")


def _run(processes: int, *args: str) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = (
        [TORCHRUN, "--standalone", f"--nproc_per_node={processes}", str(WORKER), *args]
        if processes > 1
        else [sys.executable, str(WORKER), *args]
    )
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    if processes > 1 and result.returncode != 0 and "terminate called without an active exception" in result.stderr:
        # A gloo rank can still abort at interpreter exit on a loaded machine (seen in one CI
        # run, not reproduced in 15 loaded runs here; an upstream PyTorch problem, pytorch#190489): try once more, so
        # that a real failure, which repeats, still fails.
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture
def data(tmp_path: Path, painting: Path) -> tuple[Path, Path]:
    from skimage import data as samples

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("coffee", "rocket", "chelsea", "astronaut", "camera", "brick"):
        array = getattr(samples, name)()
        Image.fromarray(array).convert("RGB").resize((96, 80)).save(folder / f"{name}.png")
    return painting, folder


def _weights(report: Path, rank: int) -> dict[str, torch.Tensor]:
    return torch.load(f"{report}.rank{rank}.weights", weights_only=True)


def test_two_processes_train_like_one_and_resume_on_one(tmp_path: Path, data) -> None:
    painting, photos = data
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    _run(1, str(painting), str(photos), str(one / "m.pt"), str(one / "report"), "4", "new")
    _run(2, str(painting), str(photos), str(two / "m.pt"), str(two / "half"), "2", "new")

    ranks = [json.loads(Path(f"{two / 'half'}.rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["sha256"] == ranks[1]["sha256"], "the two ranks' weights drifted apart"
    assert ranks[1]["written"] == [] and ranks[0]["written"], "only rank 0 writes files"
    single = torch.load(f"{one / 'report'}.rank0.gradients", weights_only=True)
    scale = torch.sqrt(sum(g.pow(2).sum() for g in single.values()))
    for rank in (0, 1):
        double = torch.load(f"{two / 'half'}.rank{rank}.gradients", weights_only=True)
        # Same global batch, same averaged gradient on every rank, to float rounding: relative to
        # the gradient's overall size (the biases before instance norm carry only rounding noise).
        for name in single:
            assert (single[name] - double[name]).norm() < 1e-4 * scale, name
    first_one = (one / "m-log.csv").read_text().splitlines()[1].split(",")
    first_two = (two / "m-log.csv").read_text().splitlines()[1].split(",")
    assert first_one[0] == first_two[0] == "1"
    assert [float(v) for v in first_one[1:]] == pytest.approx([float(v) for v in first_two[1:]], rel=1e-4)
    meta = json.loads((two / "m-run.json").read_text())
    assert meta["world_size"] == 2 and meta["global_batch"] == 4 and meta["local_batch"] == 2 and meta["step"] == 2
    assert sorted(p.name for p in two.iterdir() if not p.name.startswith("half")) == [
        "m-curves.png",
        "m-log.csv",
        "m-previews",
        "m-run.json",
        "m.pt",
        "m.pt.train",
    ]

    # The 2-process checkpoint resumes on 1 process, in the same direction: much closer to the
    # straight 4-step run than the checkpoint itself was (see the module's note on Adam).
    _run(1, str(painting), str(photos), str(two / "m.pt"), str(two / "resumed"), "4", "resume")
    target, halfway, resumed = _weights(one / "report", 0), _weights(two / "half", 0), _weights(two / "resumed", 0)
    before = sum((halfway[n] - target[n]).abs().sum() for n in target)
    after = sum((resumed[n] - target[n]).abs().sum() for n in target)
    assert after < 0.5 * before, (float(after), float(before))
    rows = (two / "m-log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["1", "2", "3", "4"]
    assert json.loads((two / "m-run.json").read_text())["world_size"] == 1
