"""Average the decoder weights of several arbitrary-style networks from one training run.

    python scripts/average_arbitrary_networks.py OUT_FOLDER RUN_A/network.pt RUN_B/network.pt [...]

Weight averaging (as in stochastic weight averaging) of checkpoints along one run
(:func:`atelier.style.arbitrary.train.average_networks`; the encoder is the last one's).
Writes OUT_FOLDER/network.pt and exports it for onnxruntime (encoder.onnx, decoder.onnx,
decoder.int8.onnx, card.json), ready for benchmarks/compare_arbitrary_models.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from atelier.errors import AtelierError
from atelier.style.arbitrary.export import export_model
from atelier.style.arbitrary.train import average_networks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path, help="Folder to write the averaged network into.")
    parser.add_argument("networks", type=Path, nargs="+", help="network.pt files of one run.")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    try:
        print(export_model(average_networks(args.networks, args.output / "network.pt"), args.output))
    except AtelierError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
