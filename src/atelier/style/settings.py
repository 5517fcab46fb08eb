"""Every option of a stylisation, declared once (default, help, range) for all three engines,
the command line, the studio and recipes. No PyTorch here.

Engines:

* ``fast``: one network pass. Painting files go through the arbitrary-style network (any
  painting, instantly); built-in names and ``.pt``/``.onnx`` files are per-style networks.
* ``optimize``: the optimisation engine (Gatys et al.), the slow quality reference.
* ``auto`` (default): the per-style network for built-in names and model files, the
  optimisation engine for painting files. The arbitrary-style network is instant but, measured
  side by side (docs/arbitrary-style.md), still paints less than the optimiser and the peer
  tool, so a painting file gets the optimiser unless ``fast`` is asked for (the studio shows
  the instant result first, then refines).

Options keep one meaning everywhere: ``strength`` is how much style (0 = the photo, 1 = the
default, up to 4 = bolder) whichever engine paints; colour preservation is the same
luminance transfer (YIQ) or palette matching in every engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from atelier import checks
from atelier.errors import InputError
from atelier.options import check, option

ENGINES = ("auto", "fast", "optimize")
RUNTIMES = ("auto", "onnx", "torch")
COLOR_METHODS = ("luminance", "histogram")
STATISTICS = ("covariance", "gram", "mean-std")
OPTIMIZERS = ("lbfgs", "adam")
INITS = ("palette", "content", "noise", "style")
MAX_STEPS = 100_000
#: The optimisation engine's output size when none is given (the fast engines keep the photo's).
OPTIMIZE_SIZE = 512
#: The smallest working size of the fast engine (below it the network's deepest level, 1/16 of
#: the picture, is only a few cells across).
MIN_WORK_SIZE = 64


@dataclass
class StyleSettings:
    """Every knob of a stylisation. The defaults are the measured best on a 2-core CPU."""

    engine: str = option(
        "auto",
        "fast: one network pass (any painting, instantly); optimize: the optimisation engine (a minute or more, the quality reference); "
        "auto: optimize for painting files, the network for built-in styles.",
        choices=ENGINES,
    )
    size: int | None = option(
        None,
        "Longest side of the output in pixels (default: the photo's own size; 512 with --engine optimize).",
        low=16,
        high=checks.MAX_SIDE,
        unit=" pixels",
    )
    strength: float = option(1.0, "How much style: 0 keeps the photo, 1 is the default, up to 4 is bolder.", low=0, high=4)
    style_scale: float = option(1.0, "Brush-stroke size relative to the output: 2 gives larger strokes.", low=0.05, high=8)
    detail: float = option(
        1.0,
        "Fast engine, paintings: how much of the photo's fine detail survives (1: all of it, crisp; 0: painted from the "
        "painting's broader strokes, loosest).",
        low=0,
        high=1,
    )
    calm_halos: float = option(
        1.0,
        "Fast engine, paintings: how much to calm the soft dark blots the network paints beside strong edges "
        "(0: the network's own picture; 1: calmed, the default).",
        low=0,
        high=1,
    )
    match_passes: int = option(
        3,
        "Fast engine, paintings: after matching the painting's feature covariance (WCT), passes that match the whole "
        "distribution of the photo's features to the painting's along different directions (sliced optimal transport): "
        "more passes paint closer to the painting's marks and keep less of the photo (0: covariance only).",
        low=0,
        high=32,
    )
    palette_match: float = option(
        0.5,
        "Fast engine, paintings: how far the finished picture's colours move onto the painting's own colour "
        "distribution (0: the network's colours; 1: the painting's palette exactly).",
        low=0,
        high=1,
    )
    strokes: float = option(
        1.0,
        "Fast engine, paintings: brush strokes drawn along the photo's contours in the painting's colours and marks "
        "(0: none, the transform's soft washes; 2: bolder, less of the photo). Longer with --style-scale.",
        low=0,
        high=4,
    )
    work_size: int = option(
        384,
        "Fast engine, paintings: the network paints at most this many pixels on the longer side and bigger outputs are "
        "enlarged with the photo's own fine detail added back, so marks keep their size relative to the picture "
        "(0: paint every pixel of the output; finer marks, slower).",
        low=0,
        high=checks.MAX_SIDE,
        unit=" pixels",
    )
    preserve_color: bool = option(False, "Keep the photo's colours; take only texture from the painting.")
    color_method: str = option(
        "luminance",
        "How --preserve-color works: luminance (texture on brightness only) or histogram (recolour the painting first).",
        choices=COLOR_METHODS,
    )
    seed: int = option(0, "Random seed: the same seed gives the same picture.", low=0, high=checks.MAX_SEED)
    runtime: str = option(
        "auto", "Fast engine: auto (onnxruntime on CPU, PyTorch on GPU or for huge photos), onnx or torch.", choices=RUNTIMES
    )
    # -- the optimisation engine ---------------------------------------------------------
    steps: int = option(160, "Optimisation steps in all (more: finer finish, slower). --engine optimize only.", low=1, high=MAX_STEPS)
    style_weight: float = option(300.0, "Weight of the style term.", low=0, high=1e9, cli=False)
    content_weight: float = option(1.0, "Weight of the content term.", low=0, high=1e9, cli=False)
    tv_weight: float = option(10.0, "Smoothness: higher removes more speckle. --engine optimize only.", low=0, high=1e9)
    statistic: str = option(
        "covariance",
        "Style statistic: covariance (centred Gram: strongest brushwork), gram (classic Gatys) or mean-std. --engine optimize only.",
        choices=STATISTICS,
    )
    smoothing: bool | None = option(
        None, "Activation smoothing (Wang et al. 2021); default: the backbone's choice. --engine optimize only."
    )
    optimizer: str = option("lbfgs", "lbfgs (fast convergence) or adam. --engine optimize only.", choices=OPTIMIZERS)
    learning_rate: float | None = option(None, "Step length (default: the optimiser's).", low=1e-9, high=1e9, cli=False)
    init: str = option(
        "palette",
        "Starting image: palette (the photo in the painting's colours), content, noise or style. --engine optimize only.",
        choices=INITS,
    )
    init_image: str | None = option(
        None, "Start from this picture instead (a fast result to refine: see `atelier refine`). --engine optimize only."
    )
    pyramid_levels: int | None = option(
        None, "Coarse-to-fine scales (default: enough for a coarsest scale of about 128-256 px).", low=1, high=8, cli=False
    )
    tile_size: int = option(
        768,
        "Scales larger than this are refined in overlapping tiles (bounds memory). --engine optimize only.",
        low=128,
        high=4096,
        unit=" pixels",
    )
    tile_overlap: int = option(96, "Overlap of neighbouring tiles.", low=0, high=2048, cli=False)
    backbone: str = option("atelier", "Loss network (see `atelier backbones`). --engine optimize only.")
    content_layers: dict[str, float] | None = option(None, "Content layers and weights, e.g. {'block5': 1}.", cli=False)
    style_layers: dict[str, float] | None = option(None, "Style layers and weights, e.g. {'relu1_1': 1, 'relu3_1': 0.5}.", cli=False)
    weights: str | None = option(None, "Weights file for --backbone vgg19 (torchvision layout).")
    preview_every: int = option(10, "Emit a preview image every N steps (0: never).", low=0, high=MAX_STEPS, cli=False)

    @property
    def color_mode(self) -> str | None:
        """None, 'luminance' or 'histogram': what the engines act on."""
        return self.color_method if self.preserve_color else None

    @property
    def output_size(self) -> int | None:
        """The size the optimisation engine paints at (the fast engines keep ``size``, None included)."""
        return OPTIMIZE_SIZE if self.size is None else self.size

    def validate(self) -> None:
        check(self)
        if self.tile_overlap * 2 >= self.tile_size:
            raise InputError("--tile-size must be more than twice the overlap")
        if 0 < self.work_size < MIN_WORK_SIZE:
            raise InputError(f"--work-size must be 0 (every pixel) or at least {MIN_WORK_SIZE}, got {self.work_size}")
        for label, layers in (("content", self.content_layers), ("style", self.style_layers)):
            if layers is not None and (not layers or any(not isinstance(w, (int, float)) or w < 0 for w in layers.values())):
                raise InputError(f"--{label}-layers needs at least one layer and no negative weight")

    def to_dict(self) -> dict:
        return asdict(self)
