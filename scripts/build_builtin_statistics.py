"""Store each built-in painting as statistics for the arbitrary-style network (the built-in pack).

    python scripts/build_builtin_statistics.py

Reads the paintings from ../shared/images/styles (they do not ship; their statistics do), at
every size in :data:`atelier.style.arbitrary.stored.SIDES`, exactly as the runtime reads a
painting file, and writes ``src/atelier/style/fast/builtin/NAME.stats.npz``. Run it again
after installing an arbitrary-style network with another encoder.
"""

from __future__ import annotations

from train_builtin_styles import PAINTINGS, SHARED

from atelier.io import fit_size, read_source, resize_array
from atelier.style.arbitrary.runtime import network, painting_statistics
from atelier.style.arbitrary.stored import SIDES, save_statistics
from atelier.style.fast.pack import BUILTIN_DIR


def main() -> None:
    net = network()
    for name, file, *_ in PAINTINGS:
        per_side = {}
        for side in SIDES:
            rgb, _ = read_source(SHARED / "styles" / file, max_side=side)
            per_side[side] = painting_statistics(net, resize_array(rgb, *fit_size(rgb.shape[1], rgb.shape[0], side)))
        path = save_statistics(BUILTIN_DIR / f"{name}.stats.npz", per_side, encoder_sha256=net.encoder_sha256)
        print(f"{path.name}: {path.stat().st_size / 1e3:.0f} KB")


if __name__ == "__main__":
    main()
