"""Do the built-in fast styles generalise to photos they never saw?

    python benchmarks/fast_generalisation.py

For every built-in, the training objective (the engine's content and style losses, with
the settings the style was trained with) on whole photos at 384 px: the mean over the
training photos against each held-out photo (sample:astronaut, a portrait, and
hoovertowernight.jpg, a night scene). Similar numbers mean the network does on new photos
what it does on the ones it learnt from. Writes benchmarks/results/fast_generalisation.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from atelier.io import load_source
from atelier.style.fast.model import load_model
from atelier.style.fast.pack import builtin_styles
from atelier.style.fast.train import SAMPLE_TRAINING_PHOTOS, TrainStyleSettings, _skimage_photo
from atelier.style.perceptual import PerceptualLoss
from atelier.style.presets import get_preset

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
STYLE_FILES = {
    "starry-night": "starry_night.jpg",
    "the-scream": "the_scream.jpg",
    "the-shipwreck": "shipwreck.jpg",
    "woman-with-a-hat": "woman-with-hat-matisse.jpg",
}


def main() -> int:
    torch.set_num_threads(2)
    training = [load_source(SHARED / "content" / "tubingen.jpg", max_side=384).rgb] + [
        _skimage_photo(n, 384) for n in SAMPLE_TRAINING_PHOTOS
    ]
    held_out = {
        "portrait (astronaut)": load_source("sample:astronaut", max_side=384).rgb,
        "night (hoovertowernight)": load_source(SHARED / "content" / "hoovertowernight.jpg", max_side=384).rgb,
    }
    report = {}
    for style in builtin_styles():
        model = load_model(style.pt_path)
        fields = TrainStyleSettings.__dataclass_fields__
        settings = TrainStyleSettings(**{k: v for k, v in model.settings.items() if k in fields})
        objective = PerceptualLoss(get_preset(settings.backbone), settings.loss_settings(), smoothing=False)
        objective.set_style([load_source(SHARED / "styles" / STYLE_FILES[style.name], max_side=settings.style_size).rgb], [1.0])

        def losses(photo: torch.Tensor, objective=objective, model=model) -> dict[str, float]:
            objective.set_content(photo, None)
            with torch.no_grad():
                return objective.loss(model(photo))[1]

        train = [losses(s) for s in training]
        row = {"training photos (mean)": {k: round(sum(t[k] for t in train) / len(train), 4) for k in ("content", "style")}}
        for label, photo in held_out.items():
            row[label] = {k: round(v, 4) for k, v in losses(photo).items() if k in ("content", "style")}
        report[style.name] = row
        print(style.name, json.dumps(row), flush=True)
    (ROOT / "benchmarks" / "results" / "fast_generalisation.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
