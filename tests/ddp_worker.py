"""Run by tests/test_distributed.py under ``torchrun`` (or plain python): trains a tiny fast
style through the library, then reports this rank's weights and the files it wrote."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch

import atelier.io.atomic as atomic
from atelier.style.fast.network import NetworkShape
from atelier.style.fast.settings import TrainStyleSettings
from atelier.style.fast.train import train_style

painting, photos, output, report, steps, resume = sys.argv[1:7]
rank = int(os.environ.get("RANK", "0"))
written: list[str] = []
real_write = atomic.atomic_write


def recording(path, write):
    written.append(str(path))
    return real_write(path, write)


atomic.atomic_write = recording  # every file Atelier writes goes through here
first_gradients: dict[str, torch.Tensor] = {}
real_step = torch.optim.Adam.step


def recording_step(self, *args, **kwargs):
    # The gradients of the first step, after DDP has averaged them over the ranks.
    if not first_gradients:
        for group in self.param_groups:
            for index, p in enumerate(group["params"]):
                first_gradients[str(index)] = p.grad.detach().clone()
    return real_step(self, *args, **kwargs)


torch.optim.Adam.step = recording_step
if os.environ.get("ATELIER_BENCH_FULL"):  # benchmarks/bench_distributed.py: the real network and crops
    settings = TrainStyleSettings(steps=int(steps), batch=4, preview_every=0, checkpoint_every=1000)
else:
    settings = TrainStyleSettings(
        steps=int(steps),
        batch=4,
        crop=64,
        style_size=96,
        learning_rate=1e-2,
        preview_every=2,
        checkpoint_every=2,
        shape=NetworkShape((8, 12, 16), 1, 4).to_dict(),
    )
if resume == "resume":  # the run's own settings, with a new step total
    settings = TrainStyleSettings(steps=int(steps))
model = train_style(painting, output, settings, content_dir=photos, resume=resume == "resume")
state = model.network.state_dict()
digest = hashlib.sha256(b"".join(state[k].numpy().tobytes() for k in sorted(state))).hexdigest()
Path(f"{report}.rank{rank}.json").write_text(json.dumps({"rank": rank, "sha256": digest, "written": written}))
torch.save({k: v.clone() for k, v in state.items()}, f"{report}.rank{rank}.weights")
torch.save(first_gradients, f"{report}.rank{rank}.gradients")
