"""Settings of the arbitrary-style network's training, declared once (no PyTorch)."""

from __future__ import annotations

from dataclasses import dataclass

from atelier import checks
from atelier.options import check, option


@dataclass
class ArbitrarySettings:
    """Two phases: the decoder first learns to reconstruct photos from their features, then to
    paint transformed features (style losses, a little reconstruction to keep it honest)."""

    recon_steps: int = option(3000, "Steps of the reconstruction phase.", low=0, high=10_000_000)
    style_steps: int = option(2500, "Steps of the style phase after it.", low=0, high=10_000_000)
    batch: int = option(4, "Photos per step (over all processes under torchrun).", low=1, high=256)
    crop: int = option(192, "Side of the square training crops (multiple of 32).", low=64, high=1024, unit=" pixels")
    learning_rate: float = option(1e-3, "Adam learning rate of the reconstruction phase.", low=1e-8, high=1, cli=False)
    style_learning_rate: float = option(4e-4, "Adam learning rate of the style phase.", low=1e-8, high=1, cli=False)
    style_weight: float = option(40.0, "Style phase: weight of the style term (random-VGG covariance and mean/std).", low=0, high=1e6)
    content_weight: float = option(
        3.0, "Style phase: weight of the content term (EfficientNet-Lite0 features).", low=0, high=1e6, cli=False
    )
    recon_weight: float = option(
        0.5, "Style phase: weight of plain reconstruction (keeps strength 0 = the photo).", low=0, high=1e6, cli=False
    )
    painting_recon_weight: float = option(
        100.0,
        "Style phase: weight of reconstructing each style sample from its own features (L1), so that the decoder"
        " learns to render a painting's crisp marks, not only photos.",
        low=0,
        high=1e6,
        cli=False,
    )
    perceptual_weight: float = option(0.5, "Reconstruction phase: weight of the perceptual term beside L1.", low=0, high=1e6, cli=False)
    tv_weight: float = option(1.0, "Style phase: smoothness.", low=0, high=1e6, cli=False)
    skip_dropout: float = option(
        0.0,
        "Probability that a training item's finest level is blanked (and then, with the same probability, the next):"
        " the decoder learns to paint from the deeper levels, where a painting's strokes are.",
        low=0,
        high=1,
        cli=False,
    )
    style_mix: tuple[float, float, float, float, float] = option(
        (0.4, 0.35, 0.13, 0.12, 0.0),
        "Style phase: shares of the style samples drawn from the paintings given, procedural paintings, photos, textures"
        " and photos painted in brush strokes.",
        low=0,
        high=1,
        cli=False,
    )
    match_passes: int = option(
        3,
        "Style phase: sliced-matching passes after WCT in the transform the decoder learns to paint (the runtime's"
        " --match-passes; 0: WCT only, as networks before 2026-12-07 were trained).",
        low=0,
        high=32,
        cli=False,
    )
    style_net: str = option("vgg19-random-quarter", "Backbone of the style loss.", cli=False)
    widths: tuple[int, int, int, int] = option((16, 32, 64, 128), "Encoder widths of the four levels.", low=4, high=1024, cli=False)
    decoder_widths: tuple[int, int, int, int] = option((16, 32, 96, 192), "Decoder widths of the four levels.", low=4, high=1024, cli=False)
    preview_every: int = option(250, "Write a preview (held-out photo and paintings) every N steps; 0: never.", low=0, high=10_000_000)
    checkpoint_every: int = option(250, "Save the model and the training state every N steps.", low=1, high=10_000_000)
    seed: int = option(0, "Random seed (also of the fixed random encoder).", low=0, high=checks.MAX_SEED)

    @property
    def steps(self) -> int:
        return self.recon_steps + self.style_steps

    def validate(self) -> None:
        check(self)
        from atelier.errors import InputError

        if self.crop % 32:
            raise InputError(f"--crop must be a multiple of 32, got {self.crop}")
        if len(self.style_mix) not in (4, 5) or sum(self.style_mix) <= 0:
            raise InputError(f"the style mix needs 4 or 5 shares, not all 0, got {tuple(self.style_mix)}")


def style_shares(mix: tuple[float, ...]) -> tuple[float, ...]:
    """The style mix with all five shares: a mix of four (from before painted photos were a
    source, or typed so) gets a painted-photo share of 0."""
    return (*mix, 0.0) if len(mix) == 4 else tuple(mix)


def upgrade_settings(saved: dict) -> dict:
    """Settings saved by earlier versions, in today's terms: a field a run did not have keeps
    the value it had then (0: no sliced passes in the loop, no reconstruction of the style
    samples), not today's default, so a resumed run goes on with the loss it began with."""
    upgraded = {"match_passes": 0, "painting_recon_weight": 0.0, **saved}
    if "style_mix" in upgraded:
        upgraded["style_mix"] = style_shares(upgraded["style_mix"])
    return upgraded
