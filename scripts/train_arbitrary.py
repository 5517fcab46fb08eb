"""Train the arbitrary-style network that ships with Atelier, and install it in the package.

    python scripts/train_arbitrary.py --work /tmp/arbitrary [--resume] [--time-limit 2h]

Photos: the 80 scene photos in ../shared/photos. Paintings: three of the five in
../shared/images/styles (The Starry Night, The Shipwreck, Woman with a Hat); The Scream and
Kandinsky's Composition VII are held out, so that benchmarks/bench_arbitrary.py can report
paintings the network never saw. Procedural paintings, photos and scikit-image textures make up
the rest of the style samples (atelier.style.arbitrary.data). Copies network.pt, encoder.onnx,
decoder.onnx, decoder.int8.onnx and card.json into src/atelier/style/arbitrary/model/ when done.
The training paintings are linked from WORK/paintings (kept, so that --resume works in a later
session).

The shipped model (2026-12-07) was made in two runs with today's defaults (the style phase's
content weight 3, 3 sliced passes in the loop, the style samples reconstructed at weight 100),
about 10 + 40 minutes on 2 CPU cores:

    python scripts/train_arbitrary.py --work /tmp/arb-recon --recon-steps 3754 --style-steps 0 --no-install
    python scripts/train_arbitrary.py --work /tmp/arb3 --init /tmp/arb-recon/network.pt --recon-steps 0 \
        --style-steps 2880 --skip-dropout 0.6

(reconstruction without skip dropout, then the style phase with it; its card.json lists the
history). A single run (``--skip-dropout`` applies to both phases) is the simpler default.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from atelier.errors import AtelierError
from atelier.style.arbitrary.export import INT8_DECODER
from atelier.style.arbitrary.runtime import SHIPPED_MODEL
from atelier.style.arbitrary.settings import ArbitrarySettings
from atelier.style.arbitrary.train import train_arbitrary

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TRAIN_PAINTINGS = ("starry_night.jpg", "shipwreck.jpg", "woman-with-hat-matisse.jpg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="Run folder (checkpoints, previews, log).")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--time-limit", default=None)
    parser.add_argument("--recon-steps", type=int, default=ArbitrarySettings().recon_steps)
    parser.add_argument("--style-steps", type=int, default=ArbitrarySettings().style_steps)
    parser.add_argument("--init", type=Path, default=None, help="Start from this network.pt (fine-tuning).")
    parser.add_argument("--skip-dropout", type=float, default=ArbitrarySettings().skip_dropout)
    parser.add_argument("--style-weight", type=float, default=ArbitrarySettings().style_weight)
    parser.add_argument("--recon-weight", type=float, default=ArbitrarySettings().recon_weight)
    parser.add_argument(
        "--match-passes", type=int, default=ArbitrarySettings().match_passes, help="Sliced passes in the training transform."
    )
    parser.add_argument(
        "--painting-recon-weight",
        type=float,
        default=ArbitrarySettings().painting_recon_weight,
        help="Style phase: reconstruct each style sample from its own features too.",
    )
    parser.add_argument("--tv-weight", type=float, default=ArbitrarySettings().tv_weight)
    parser.add_argument("--content-weight", type=float, default=ArbitrarySettings().content_weight)
    parser.add_argument(
        "--style-mix",
        default=None,
        help="Shares of paintings,procedural,photos,textures[,painted photos] among style samples (e.g. 0.3,0.2,0.1,0.1,0.3).",
    )
    parser.add_argument("--no-install", action="store_true", help="Leave the package's model alone.")
    args = parser.parse_args()
    # A folder of links inside the run (not a temporary one): a resumed run reads its paintings
    # from the path its settings recorded.
    paintings = args.work / "paintings"
    paintings.mkdir(parents=True, exist_ok=True)
    for name in TRAIN_PAINTINGS:
        link = paintings / name
        if not link.exists():
            link.symlink_to(SHARED / "images" / "styles" / name)
    settings = ArbitrarySettings(
        recon_steps=args.recon_steps, style_steps=args.style_steps, skip_dropout=args.skip_dropout, style_weight=args.style_weight
    )
    settings.recon_weight = args.recon_weight
    settings.match_passes = args.match_passes
    settings.tv_weight = args.tv_weight
    settings.painting_recon_weight = args.painting_recon_weight
    settings.content_weight = args.content_weight
    if args.style_mix:
        try:
            settings.style_mix = tuple(float(x) for x in args.style_mix.split(","))
        except ValueError:
            raise SystemExit(f"error: --style-mix takes shares separated by commas, got {args.style_mix!r}") from None

    def report(event) -> None:
        if event.step % 50 == 0:
            print(event.step, {k: round(v, 4) for k, v in event.metrics.items()}, flush=True)

    try:
        train_arbitrary(
            SHARED / "photos",
            args.work,
            settings,
            paintings=paintings,
            resume=args.resume,
            init=args.init,
            time_limit=args.time_limit,
            on_progress=report,
        )
    except AtelierError as error:  # a user mistake (bad setting, missing folder): one line
        raise SystemExit(f"error: {error}") from None
    # The card names the data as a reader would (not the folder of links).
    card_path = args.work / "card.json"
    card = json.loads(card_path.read_text())
    card["settings"]["photos"] = "../shared/photos (80 scene photos)"
    card["settings"]["paintings"] = "../shared/images/styles: " + ", ".join(TRAIN_PAINTINGS) + " (the others held out)"
    if args.init is not None:
        card["settings"]["init"] = str(args.init.name)
    card_path.write_text(json.dumps(card, indent=2))
    if args.no_install:
        return
    SHIPPED_MODEL.mkdir(exist_ok=True)
    for name in ("network.pt", "encoder.onnx", "decoder.onnx", INT8_DECODER, "card.json"):
        shutil.copy(args.work / name, SHIPPED_MODEL / name)
    print(f"installed in {SHIPPED_MODEL}")


if __name__ == "__main__":
    main()
