"""Using a trained 3D GAN: animated sample grids (GIF or MP4) and Frechet evaluation."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from atelier import checks
from atelier.errors import InputError
from atelier.generate.models import to_unit
from atelier.io.atomic import atomic_write
from atelier.io.paths import check_new_file
from atelier.video.gan.data import load_clips
from atelier.video.gan.model import VideoGenerator
from atelier.video.gan.train import clip_scores, load_video_generator

MAX_CLIPS = 64
GRID_FPS = 8


def clip_grid_frames(clips: torch.Tensor, scale: int = 2) -> list[np.ndarray]:
    """``(N, 3, T, S, S)`` clips in [0, 1] tiled into ``T`` uint8 frames (2 px gutters), enlarged ``scale`` times."""
    n, _, t, s, _ = clips.shape
    columns = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    side = s + 2
    grid = np.full((t, rows * side + 2, columns * side + 2, 3), 255, np.uint8)
    pixels = (clips.clamp(0, 1) * 255 + 0.5).byte().permute(0, 2, 3, 4, 1).numpy()  # N, T, S, S, 3
    for i in range(n):
        r, c = divmod(i, columns)
        grid[:, 2 + r * side : 2 + r * side + s, 2 + c * side : 2 + c * side + s] = pixels[i]
    return [np.kron(frame, np.ones((scale, scale, 1), np.uint8)) for frame in grid]


def write_clip_grid(clips: torch.Tensor, output: str | Path, scale: int = 2, fps: int = GRID_FPS) -> Path:
    """An animated grid of clips as a looping GIF, or an MP4 (by ``output``'s suffix), atomically."""
    output = Path(output)
    frames = clip_grid_frames(clips, scale)
    suffix = output.suffix.lower()
    if suffix == ".gif":
        from PIL import Image

        pictures = [Image.fromarray(f) for f in frames]

        def write(stream) -> None:
            pictures[0].save(stream, format="GIF", save_all=True, append_images=pictures[1:], duration=int(1000 / fps), loop=0)

        return atomic_write(output, write)
    if suffix == ".mp4":
        from atelier.video.io import OutputSpec, write_video

        h, w = frames[0].shape[:2]
        return write_video(output, ((f, i) for i, f in enumerate(frames)), OutputSpec(w, h, Fraction(1, fps), Fraction(fps)))
    raise InputError(f"{output}: write the clips as .gif or .mp4")


def generate_clips(generator: VideoGenerator, n: int, seed: int) -> torch.Tensor:
    z = torch.randn(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return to_unit(generator(z))


def sample_clips(run_dir: str | Path, output: str | Path, n: int = 16, seed: int = 0, which: str = "latest", scale: int = 2) -> Path:
    """Write ``n`` generated clips as one animated grid (``.gif`` or ``.mp4``)."""
    checks.in_range("-n", n, 1, MAX_CLIPS)
    checks.seed(seed)
    check_new_file(output, force=True, suffixes=(".gif", ".mp4"), what="clip grid")
    generator, _ = load_video_generator(run_dir, which)
    return write_clip_grid(generate_clips(generator, n, seed), output, scale)


def evaluate_video_gan(run_dir: str | Path, data_path: str | Path, n: int = 256, seed: int = 0, which: str = "latest") -> dict:
    """``fd_frames`` and ``fd_motion`` of the run's generator against clips cut from the videos
    at ``data_path``, and the same for an untrained generator of the same shape (the yardstick)."""
    checks.in_range("-n", n, 2, 10_000)
    generator, meta = load_video_generator(run_dir, which)
    s = meta["settings"]
    real = load_clips(data_path, s["size"], s["frames"], s["stride"], max_clips=n).float() / 255
    count = len(real)
    trained = clip_scores(generate_clips(generator, count, seed + 1), real)
    with torch.random.fork_rng():
        torch.manual_seed(s["seed"])
        untrained = VideoGenerator(s["size"], s["frames"], s["z_dim"], s["width"]).eval()
    baseline = clip_scores(generate_clips(untrained, count, seed + 1), real)
    return {
        "step": meta["step"],
        "clips": count,
        **trained,
        "untrained_fd_frames": baseline["fd_frames"],
        "untrained_fd_motion": baseline["fd_motion"],
        "feature_extractor": "efficientnet-lite0 (pooled 1280-d, 160 px) on 4 frames per clip; motion: frame differences and where they are",
    }
