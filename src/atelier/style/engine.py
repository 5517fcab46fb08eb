"""Optimisation-based style transfer (Gatys, Ecker & Bethge 2016) with the controls of
Gatys et al. 2017: several styles blended, style scale, colour preservation, masks and
coarse-to-fine optimisation, plus tiled refinement so that very large outputs fit in memory.

The engine is a generator of :class:`~atelier.events.Event` s, so that a command-line progress
bar, a web page and a test can all watch the same run; closing the generator or setting
the ``cancel`` event stops it between two steps.
"""

from __future__ import annotations

import math
import threading
from typing import Iterator, Sequence

import torch

from atelier import backbones
from atelier.errors import AtelierError, Cancelled, InputError
from atelier.events import Event
from atelier.io import fit_size, resize_to
from atelier.style import color
from atelier.style.options import normalised_weights
from atelier.style.perceptual import PerceptualLoss
from atelier.style.presets import get_preset
from atelier.style.settings import StyleSettings
from atelier.style.tiles import feather as _feather
from atelier.style.tiles import tile_starts as _tile_starts

#: A step whose loss exceeds this multiple of the best loss so far counts as divergence.
DIVERGENCE_FACTOR = 10.0
#: Restarts with a halved step length before switching to Adam.
MAX_RECOVERIES = 3


def weights_hash(settings: StyleSettings) -> str:
    """Hash of the loss networks' weights, recorded so a replay can tell if they changed."""
    net = get_preset(settings.backbone)
    hashes = [backbones.get(name, settings.weights if name == "vgg19" else None).weights_sha256 or "" for name in net.backbones]
    return hashes[0] if len(hashes) == 1 else "+".join(h[:16] for h in hashes)


def check_layers(settings: StyleSettings) -> None:
    """Check ``--content-layers``/``--style-layers`` name layers the loss network has."""
    net = get_preset(settings.backbone)
    for label, layers in (("content", settings.content_layers), ("style", settings.style_layers)):
        if layers is None:
            continue
        known = layer_names(net.content_backbone if label == "content" else net.style_backbone)
        unknown = sorted(set(layers) - set(known))
        if unknown:
            raise InputError(f"--{label}-layers: no layer {', '.join(unknown)} in this backbone; it has: {', '.join(known)}")


def layer_names(backbone: str) -> list[str]:
    """Layer names of a backbone, without loading its weights where possible."""
    if backbone.startswith("vgg19"):
        from atelier.backbones.vgg import vgg19_features

        return vgg19_features()[1]
    return backbones.get(backbone).layer_names


#: Stylisation progress is the common :class:`atelier.events.Event` (phase ``stylizing``);
#: ``extra`` holds ``scale`` (0 = coarsest), ``scales``, ``size`` ``(width, height)`` and ``tile``.
Progress = Event


def _progress(
    step: int,
    total: int,
    losses: dict[str, float],
    scale: int,
    scales: int,
    size: tuple[int, int],
    *,
    preview: torch.Tensor | None = None,
    result: torch.Tensor | None = None,
    tile: tuple[int, int] | None = None,
) -> Event:
    detail = f"scale {scale + 1}/{scales} {size[0]}x{size[1]}" + (f" tile {tile[0]}/{tile[1]}" if tile else "")
    return Event(
        step,
        total,
        losses,
        phase="stylizing",
        detail=detail,
        preview=preview,
        result=result,
        extra={"scale": scale, "scales": scales, "size": size, "tile": tile},
    )


def pyramid_sizes(width: int, height: int, size: int, levels: int | None) -> list[tuple[int, int]]:
    """``(w, h)`` per scale, coarsest first, the last being the output size."""
    if levels is None:
        levels = 1
        while size / 2**levels >= 200:
            levels += 1
    levels = max(1, levels)
    sizes = []
    for level in reversed(range(levels)):
        sizes.append(fit_size(width, height, max(16, round(size / 2**level))))
    return sizes


def step_schedule(total: int, pixels: Sequence[int]) -> list[int]:
    """Split ``total`` steps over scales: coarse scales are cheap, so they get more.

    Each scale's share is proportional to ``pixels ** -0.5`` (a step at twice the side
    gets half the steps), every scale gets at least one step.
    """
    if total < len(pixels):
        raise InputError(f"--steps must be at least {len(pixels)} (one per scale), got {total}")
    shares = [p**-0.5 for p in pixels]
    steps = [max(1, int(total * s / sum(shares))) for s in shares]
    # Rounding and the one-step minimum can miss the budget: settle it on the coarsest
    # scales (cheapest) first.
    index = 0
    while sum(steps) != total:
        if sum(steps) < total:
            steps[index % len(steps)] += 1
        elif steps[index % len(steps)] > 1:
            steps[index % len(steps)] -= 1
        index += 1
    return steps


def _optimise(
    objective: PerceptualLoss,
    start: torch.Tensor,
    steps: int,
    settings: StyleSettings,
    cancel: threading.Event | None,
) -> Iterator[tuple[torch.Tensor, dict[str, float]]]:
    """Yield ``(image, losses)`` after every optimisation step.

    Robust to divergence: L-BFGS with a fixed step length can blow up on some objectives
    and CPUs (seen with activation smoothing: the loss went from 2e5 to 6e13 on one machine
    and not on another). A step whose loss is not finite or jumps far above the best so far
    is undone: the optimiser restarts from the best image with half the step length, and
    after :data:`MAX_RECOVERIES` restarts continues with Adam. What is yielded is always
    the best image evaluated so far, so a run never ends worse than an earlier step.
    """
    kind = settings.optimizer
    lr = settings.learning_rate or (1.0 if kind == "lbfgs" else 0.02)
    image = start.detach().clone().requires_grad_(True)
    best_image, best_total, best_losses = image.detach().clamp(0, 1), math.inf, {}
    last: dict[str, float] = {}
    recoveries = 0

    def make_optimizer() -> torch.optim.Optimizer:
        if kind == "lbfgs":
            return torch.optim.LBFGS([image], lr=lr, max_iter=1, history_size=20)
        return torch.optim.Adam([image], lr=lr)

    optimizer = make_optimizer()

    def closure() -> torch.Tensor:
        nonlocal last
        optimizer.zero_grad(set_to_none=True)
        loss, last = objective.loss(image)
        loss.backward()
        return loss

    for index in range(steps):
        if cancel is not None and cancel.is_set():
            raise Cancelled("stylisation cancelled")
        before = image.detach().clone()
        optimizer.step(closure)  # ``last`` now holds the losses of ``before``
        # Clamping between L-BFGS steps corrupts its curvature history (measured: the loss
        # oscillates instead of falling), so only Adam's iterate is projected; what we
        # hand out is always clamped.
        if kind == "adam":
            with torch.no_grad():
                image.clamp_(0, 1)
        total = last.get("total", math.inf)
        if not math.isfinite(total) or total > DIVERGENCE_FACTOR * best_total:
            recoveries += 1
            if recoveries > 3 * MAX_RECOVERIES:
                raise AtelierError(
                    "the optimisation diverged and did not recover; try a lower --strength, another --optimizer or other --style-layers"
                )
            switch = kind == "lbfgs" and recoveries > MAX_RECOVERIES
            kind, lr = ("adam", 0.02) if switch else (kind, lr * 0.5)
            with torch.no_grad():
                image.copy_(best_image)
            optimizer = make_optimizer()
        elif total < best_total:
            best_image, best_total, best_losses = before.clamp(0, 1), total, last
        if index == steps - 1:  # the last iterate has not been evaluated yet
            with torch.no_grad():
                final_total, final_losses = objective.loss(image)
            if math.isfinite(float(final_total)) and float(final_total) < best_total:
                best_image, best_total, best_losses = image.detach().clamp(0, 1), float(final_total), final_losses
        yield best_image, best_losses


def _prepare_inputs(
    content: torch.Tensor, styles: Sequence[torch.Tensor], settings: StyleSettings
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Apply colour preservation to the inputs (Gatys et al. 2017)."""
    if settings.color_mode == "histogram":
        return content, [color.match_colors(style, content) for style in styles]
    if settings.color_mode == "luminance":
        content_y = color.luminance(content)
        styles_y = [color.match_luminance(color.luminance(s), content_y).clamp(0, 1) for s in styles]
        return content_y.expand(-1, 3, -1, -1), [y.expand(-1, 3, -1, -1) for y in styles_y]
    return content, list(styles)


def _initial_image(
    content: torch.Tensor, styles: Sequence[torch.Tensor], weights: Sequence[float], settings: StyleSettings
) -> torch.Tensor:
    generator = torch.Generator().manual_seed(settings.seed)
    main_style = styles[max(range(len(styles)), key=lambda i: weights[i])]
    if settings.init == "noise":
        return torch.rand(content.shape, generator=generator)
    if settings.init == "style":
        return resize_to(main_style, content.shape[-2], content.shape[-1])
    if settings.init == "palette" and settings.color_mode is None:
        # Start from the photo painted in the painting's colours: the optimiser then spends
        # its few CPU steps on texture rather than on slowly shifting the palette.
        return color.match_colors(content, main_style)
    return content.clone()


def stylize_steps(
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    *,
    style_weights: Sequence[float] | None = None,
    mask: torch.Tensor | None = None,
    settings: StyleSettings | None = None,
    init_image: torch.Tensor | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Event]:
    """Stylise ``content`` (``(1, 3, H, W)`` in [0, 1]) with one or more ``styles``.

    Yields an :class:`~atelier.events.Event` after every step; the last one carries ``result``.
    ``style_weights`` blends several styles (normalised to sum to 1). ``mask`` (``(1, 1, H, W)``,
    1 = stylise) limits the style to a region. ``init_image`` (``(1, 3, h, w)``) is where the
    optimisation starts instead of ``settings.init`` (refining a fast result). Deterministic
    for a given ``settings.seed``.
    """
    settings = settings or StyleSettings()
    settings.validate()
    check_layers(settings)
    if not styles:
        raise InputError("at least one style image is needed")
    weights = normalised_weights(style_weights, len(styles), "style image(s)")
    torch.manual_seed(settings.seed)

    net = get_preset(settings.backbone)
    smoothing = net.smoothing if settings.smoothing is None else settings.smoothing
    objective = PerceptualLoss(net, settings, smoothing)

    width, height = fit_size(content.shape[-1], content.shape[-2], settings.output_size)
    sizes = pyramid_sizes(content.shape[-1], content.shape[-2], settings.output_size, settings.pyramid_levels)
    schedule = step_schedule(settings.steps, [w * h for w, h in sizes])
    total = sum(
        n
        * len(_tile_starts(h, settings.tile_size, settings.tile_overlap))
        * len(_tile_starts(w, settings.tile_size, settings.tile_overlap))
        for n, (w, h) in zip(schedule, sizes)
    )
    work_content, work_styles = _prepare_inputs(content, styles, settings)
    full_mask = None if mask is None else resize_to(mask, height, width)

    image: torch.Tensor | None = None
    step = 0
    for scale, ((w, h), n_steps) in enumerate(zip(sizes, schedule)):
        scaled_content = resize_to(work_content, h, w)
        style_side = max(16, round(max(w, h) * settings.style_scale))
        objective.set_style([resize_to(s, *fit_size(s.shape[-1], s.shape[-2], style_side)[::-1]) for s in work_styles], weights)
        scaled_mask = None if full_mask is None else resize_to(full_mask, h, w)
        if image is None and init_image is not None:
            image = resize_to(init_image, h, w)  # refining a picture, e.g. a fast result
        elif image is None:
            image = _initial_image(scaled_content, work_styles, weights, settings)
        else:
            image = resize_to(image, h, w)

        ys = _tile_starts(h, settings.tile_size, settings.tile_overlap)
        xs = _tile_starts(w, settings.tile_size, settings.tile_overlap)
        tiles = [(y, x) for y in ys for x in xs]
        if len(tiles) == 1:
            objective.set_content(scaled_content, scaled_mask)
            for current, losses in _optimise(objective, image, n_steps, settings, cancel):
                step += 1
                preview = current if settings.preview_every and step % settings.preview_every == 0 else None
                yield _progress(step, total, losses, scale, len(sizes), (w, h), preview=preview)
            image = current
            continue

        # Tiled refinement: each tile starts from the current canvas (so it agrees with
        # tiles already refined) and is blended back with feathered overlaps.
        t = settings.tile_size
        canvas = image.clone()
        for index, (y, x) in enumerate(tiles):
            th, tw = min(t, h - y), min(t, w - x)
            region = (slice(None), slice(None), slice(y, y + th), slice(x, x + tw))
            objective.set_content(scaled_content[region], None if scaled_mask is None else scaled_mask[region])
            for current, losses in _optimise(objective, canvas[region], n_steps, settings, cancel):
                step += 1
                preview = None
                if settings.preview_every and step % settings.preview_every == 0:
                    preview = canvas.clone()
                    preview[region] = current
                yield _progress(step, total, losses, scale, len(sizes), (w, h), preview=preview, tile=(index + 1, len(tiles)))
            weight = _feather(th, tw, settings.tile_overlap, (y > 0, y + th < h, x > 0, x + tw < w))
            canvas[region] = canvas[region] * (1 - weight) + current * weight
        image = canvas

    assert image is not None
    result = _finish(image, content, full_mask, settings)
    yield _progress(step, total, {}, len(sizes) - 1, len(sizes), (width, height), preview=result, result=result)


def _finish(image: torch.Tensor, content: torch.Tensor, mask: torch.Tensor | None, settings: StyleSettings) -> torch.Tensor:
    h, w = image.shape[-2:]
    content_full = resize_to(content, h, w)
    if settings.color_mode == "luminance":
        image = color.combine_luminance(color.luminance(image), content_full)
    if mask is not None:
        image = image * mask + content_full * (1 - mask)
    return image.clamp(0, 1)


def stylize(
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    *,
    style_weights: Sequence[float] | None = None,
    mask: torch.Tensor | None = None,
    settings: StyleSettings | None = None,
    cancel: threading.Event | None = None,
) -> torch.Tensor:
    """Run :func:`stylize_steps` to the end and return the stylised image."""
    result = None
    for event in stylize_steps(content, styles, style_weights=style_weights, mask=mask, settings=settings, cancel=cancel):
        result = event.result
    assert result is not None
    return result
