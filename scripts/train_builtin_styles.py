"""Train the built-in fast styles and write the pack into the package.

    python scripts/train_builtin_styles.py --work /tmp/fast-styles [--steps 1200] [--only starry-night]

Photos: ../shared/images/content/tubingen.jpg plus scikit-image's bundled photos; two
pictures are held out to check generalisation (sample:astronaut, a portrait, and
hoovertowernight.jpg, a night scene). Re-running resumes unfinished styles.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from atelier.style.fast.export import export_onnx
from atelier.style.fast.model import load_model, save_model
from atelier.style.fast.pack import BUILTIN_DIR
from atelier.style.fast.train import SAMPLE_TRAINING_PHOTOS, TrainStyleSettings, checkpoint_path, train_style

SHARED = Path(__file__).resolve().parents[2] / "shared" / "images"
PAINTINGS = [
    # name, file, title, artist, date
    ("starry-night", "starry_night.jpg", "The Starry Night", "Vincent van Gogh", "1889"),
    ("the-scream", "the_scream.jpg", "The Scream", "Edvard Munch", "1893"),
    ("the-shipwreck", "shipwreck.jpg", "The Shipwreck", "J. M. W. Turner", "1805"),
    ("woman-with-a-hat", "woman-with-hat-matisse.jpg", "Woman with a Hat", "Henri Matisse", "1905"),
]


def photo_folder(work: Path) -> Path:
    folder = work / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SHARED / "content" / "tubingen.jpg", folder / "tubingen.jpg")
    from skimage import data

    for name in SAMPLE_TRAINING_PHOTOS:
        Image.fromarray(np.asarray(getattr(data, name)())).save(folder / f"{name}.png")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=TrainStyleSettings().steps)
    parser.add_argument("--only", action="append")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    photos = photo_folder(args.work)
    index_path = BUILTIN_DIR / "styles.json"
    index = {e["name"]: e for e in json.loads(index_path.read_text())} if index_path.exists() else {}
    for name, file, title, artist, date in PAINTINGS:
        if args.only and name not in args.only:
            continue
        model_path = args.work / f"{name}.pt"
        resume = checkpoint_path(model_path).exists()
        start = time.perf_counter()
        last = [start]

        def report(event, name=name, start=start, last=last) -> None:
            if event.step % 50 == 0 or event.step == event.total:
                now = time.perf_counter()
                print(
                    f"{name} {event.step}/{event.total} style {event.losses['style']:.4f} content {event.losses['content']:.3f} ({(now - last[0]) / 50:.2f} s/step)",
                    flush=True,
                )
                last[0] = now

        settings = TrainStyleSettings(steps=args.steps)
        model = train_style(
            SHARED / "styles" / file, model_path, settings, content_dir=photos, name=name, resume=resume, on_progress=report
        )
        minutes = (time.perf_counter() - start) / 60
        model.style_source = file
        save_model(model, BUILTIN_DIR / f"{name}.pt")
        export_onnx(load_model(BUILTIN_DIR / f"{name}.pt"), BUILTIN_DIR / f"{name}.onnx", force=True)
        index[name] = {
            "name": name,
            "title": title,
            "artist": artist,
            "date": date,
            "trained_steps": model.trained_steps,
            "training": (
                f"{model.trained_steps} steps, batch {settings.batch}, {settings.crop} px crops of {len(list(photos.iterdir()))} photos "
                f"(tubingen + scikit-image), painting at {settings.style_size} px; this session's run: {minutes:.0f} min on a 2-core CPU"
                + (" (resumed)" if resume else "")
            ),
        }
        ordered = [index[n] for n, *_ in PAINTINGS if n in index]
        index_path.write_text(json.dumps(ordered, indent=2) + "\n")
        print(f"{name}: done in {minutes:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
