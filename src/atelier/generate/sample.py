"""Using a trained GAN: sample grids, latent walks, and Frechet/KID evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from atelier import checks
from atelier.errors import InputError
from atelier.generate.data import load_dataset
from atelier.generate.models import to_unit, truncated_noise
from atelier.generate.train import effnet_features, image_grid, load_generator
from atelier.io import check_output_path, save_image, tensor_to_pil
from atelier.recipe import Recipe
from atelier.runs import RunFiles

#: Images in one grid (32 x 32 at most: a 4,000-pixel-wide picture at 128 px).
MAX_SAMPLES = 1024
#: Training images the nearest-neighbour check compares against at most (a seeded subset beyond).
MAX_COMPARED = 5000


def sample(run_dir: str | Path, n: int = 64, seed: int = 0, truncation: float | None = None) -> torch.Tensor:
    """``n`` images in [0, 1] from the run's EMA generator."""
    _check_sampling(n, seed, truncation)
    return _generate(load_generator(run_dir)[0], n, seed, truncation)


def _check_sampling(n: int, seed: int, truncation: float | None) -> None:
    checks.in_range("-n", n, 1, MAX_SAMPLES)
    checks.seed(seed)
    if truncation is not None:
        checks.in_range("truncation", truncation, 0.01, 10)


def _generate(generator: torch.nn.Module, n: int, seed: int, truncation: float | None = None) -> torch.Tensor:
    z = truncated_noise(n, generator.z_dim, truncation, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return to_unit(generator(z))


def sample_grid(run_dir: str | Path, output: str | Path, n: int = 64, seed: int = 0, truncation: float | None = None) -> Path:
    """Write a grid of ``n`` samples; as PNG it carries a recipe (`atelier info` shows it)."""
    check_output_path(output)
    _check_sampling(n, seed, truncation)
    generator, meta = load_generator(run_dir)
    grid = image_grid(_generate(generator, n, seed, truncation))
    recipe = Recipe("gan.sample", params={"n": n, "truncation": truncation}, seed=seed, backbone=meta["settings"]["architecture"])
    recipe.add_input("checkpoint", RunFiles.in_folder(run_dir).state)
    return save_image(grid, output, text=recipe.png_text())


def _slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation: stays on the shell where Gaussian latents live."""
    omega = torch.arccos((a / a.norm() * b / b.norm()).sum().clamp(-1, 1))
    if omega.abs() < 1e-6:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def interpolate(
    run_dir: str | Path, output: str | Path, keyframes: int = 4, frames_between: int = 16, seed: int = 0, scale: int = 4
) -> Path:
    """A looping latent walk through ``keyframes`` random points, as GIF (or MP4 with PyAV)."""
    checks.in_range("keyframes", keyframes, 2, 64)
    checks.in_range("frames", frames_between, 2, 240)
    checks.seed(seed)
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise InputError(f"{output}: write .gif or .mp4")
    if not output.parent.is_dir():
        raise InputError(f"{output}: the folder {output.parent} does not exist")
    generator, _ = load_generator(run_dir)
    keys = truncated_noise(keyframes, generator.z_dim, None, torch.Generator().manual_seed(seed))
    zs = [_slerp(keys[i], keys[(i + 1) % keyframes], t / frames_between) for i in range(keyframes) for t in range(frames_between)]
    with torch.no_grad():
        images = to_unit(generator(torch.stack(zs)))
    frames = [tensor_to_pil(img[None]).resize((generator.size * scale,) * 2, resample=0 if scale > 1 else 1) for img in images]
    tmp = output.with_name(f".{output.name}.part{suffix}")
    try:
        if suffix == ".gif":
            frames[0].save(tmp, save_all=True, append_images=frames[1:], duration=60, loop=0)
        else:
            _write_mp4(frames, tmp)
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)
    return output


def _write_mp4(frames, path: Path) -> None:
    try:
        import av
    except ImportError:
        raise InputError("MP4 needs PyAV (pip install av); .gif works without it") from None
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=16)
        stream.width, stream.height = frames[0].size
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def evaluate(run_dir: str | Path, data_path: str | Path, n: int = 512, seed: int = 0, inception_weights: str | Path | None = None) -> dict:
    """``fid_effnet``, ``kid_effnet`` and ``fd_random_vgg`` between generated and real images,
    plus the standard ``fid`` when ``inception_weights`` (pytorch-fid's file) is given.

    The EfficientNet-Lite0 scores work offline but are not comparable with published FIDs;
    they rank runs on the same data. The projected discriminator sees EfficientNet
    features, so ``fd_random_vgg`` (features no discriminator sees) is the fairer referee
    between the two modes.
    """
    checks.in_range("-n", n, 2, 50_000)
    checks.seed(seed)
    inception = None
    if inception_weights is not None:
        from atelier.metrics.inception import load_inception

        inception = load_inception(inception_weights)  # checked before minutes of work
    generator, meta = load_generator(run_dir)
    result = score_generator(generator, data_path, n, seed, inception)
    return {**result, "step": int(meta["step"])}


@dataclass(frozen=True)
class RealSide:
    """The real pictures a score compares with, measured once: ``n`` seeded pictures of a
    folder at the generator's size and their features (to score many generators against the
    same pictures without measuring them again)."""

    images: torch.Tensor
    effnet: np.ndarray
    random_vgg: np.ndarray


def real_side(data_path: str | Path, size: int, n: int = 512, seed: int = 0) -> RealSide:
    """``n`` pictures of ``data_path`` (picked with ``seed``) at ``size`` px, with their features."""
    real = load_dataset(data_path, size).images
    pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))[:n]
    images = real[pick].float() / 255
    return RealSide(images, effnet_features(images), random_vgg_features(images))


def score_generator(generator: torch.nn.Module, data_path: str | Path | RealSide, n: int = 512, seed: int = 0, inception=None) -> dict:
    """What ``evaluate`` reports, for a generator in memory: ``n`` seeded real images from
    ``data_path`` (or a :class:`RealSide` measured before) against as many samples (latents
    seeded by ``seed + 1``)."""
    from atelier.metrics import frechet_between, kernel_distance

    real = data_path if isinstance(data_path, RealSide) else real_side(data_path, generator.size, n, seed)
    count = len(real.images)
    fake = _generate(generator, count, seed + 1)
    fake_feats = effnet_features(fake)
    result = {
        "fid_effnet": frechet_between(fake_feats, real.effnet),
        "kid_effnet": kernel_distance(fake_feats, real.effnet, subset_size=min(100, count)),
        "fd_random_vgg": frechet_between(random_vgg_features(fake), real.random_vgg),
        "images_real": int(count),
        "images_generated": int(count),
        "feature_extractor": "efficientnet-lite0 (pooled 1280-d, 160 px); not Inception-v3",
    }
    if inception is not None:
        from atelier.metrics.inception import inception_features

        result["fid"] = frechet_between(inception_features(inception, fake), inception_features(inception, real.images))
    return result


def nearest_neighbours(
    run_dir: str | Path, data_path: str | Path, n: int = 16, k: int = 3, seed: int = 0, which: str = "latest"
) -> tuple[torch.Tensor, dict]:
    """Are the samples new pictures or copies? ``n`` samples, each beside its ``k`` most
    similar training images (cosine similarity of EfficientNet-Lite0 features).

    Returns the grid (one row per sample: the sample, then its neighbours, most similar
    first) and numbers: ``sample_to_train`` is the mean cosine distance from a sample to its
    nearest training image, ``train_to_train`` the same from each training image to its
    nearest *other* training image. Samples much closer to the collection than its own
    pictures are to each other would be copies. Collections over :data:`MAX_COMPARED`
    images are compared through a seeded subset of that size.
    """
    checks.in_range("-n", n, 1, 256)
    checks.in_range("-k", k, 1, 16)
    checks.seed(seed)
    generator, meta = load_generator(run_dir, which)
    real = load_dataset(data_path, generator.size).images
    if len(real) < k + 1:
        raise InputError(f"{data_path}: {len(real)} images; the nearest-neighbour check needs at least {k + 1}")
    if len(real) > MAX_COMPARED:  # a seeded subset: features and similarities stay a few hundred MB
        real = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))[:MAX_COMPARED]]
    fake = _generate(generator, n, seed)
    real_feats = F.normalize(torch.from_numpy(effnet_features(real.float() / 255)), dim=1)
    fake_feats = F.normalize(torch.from_numpy(effnet_features(fake)), dim=1)
    top = (fake_feats @ real_feats.T).topk(k, dim=1)
    # Each training image's most similar *other* one, a block of rows at a time.
    nearest_other = []
    for start in range(0, len(real_feats), 1024):
        block = real_feats[start : start + 1024] @ real_feats.T
        block[torch.arange(len(block)), torch.arange(start, start + len(block))] = -2  # not itself
        nearest_other.append(block.max(dim=1).values)
    rows = [torch.cat([fake[i : i + 1], real[top.indices[i]].float() / 255]) for i in range(n)]
    grid = image_grid(torch.cat(rows), columns=k + 1)
    numbers = {
        "sample_to_train": round(float((1 - top.values[:, 0]).mean()), 4),
        "train_to_train": round(float((1 - torch.cat(nearest_other)).mean()), 4),
        "closest_sample": round(float((1 - top.values[:, 0]).min()), 4),
        "samples": n,
        "training_images": int(len(real)),
        "step": int(meta["step"]),
        "features": "efficientnet-lite0 (pooled 1280-d, 160 px), cosine distance",
    }
    return grid, numbers


def nearest_grid(
    run_dir: str | Path, data_path: str | Path, output: str | Path, n: int = 16, k: int = 3, seed: int = 0
) -> tuple[Path, dict]:
    """:func:`nearest_neighbours`, written as a picture; returns its path and the numbers."""
    check_output_path(output)
    grid, numbers = nearest_neighbours(run_dir, data_path, n, k, seed)
    return save_image(grid, output), numbers


def random_vgg_features(images: torch.Tensor, batch: int = 64) -> np.ndarray:
    """Channel means and standard deviations of a random-weight VGG (relu2_1, relu3_1) at 64 px.

    A second opinion for ``fid_effnet``: the projected discriminator trains *through*
    EfficientNet-Lite0 features, so a score in that same space can flatter it (Kynkäänniemi
    et al. 2023); these features are seen by neither discriminator.
    """
    from atelier import backbones

    encoder = backbones.get("vgg19-random-half")
    out = []
    with torch.no_grad(), torch.random.fork_rng():
        for start in range(0, len(images), batch):
            x = F.interpolate(images[start : start + batch].float(), size=(64, 64), mode="bilinear", align_corners=False)
            feats = encoder(x, ["relu2_1", "relu3_1"])
            out.append(torch.cat([torch.cat([f.mean(dim=(2, 3)), f.std(dim=(2, 3))], dim=1) for f in feats.values()], dim=1))
    return torch.cat(out).numpy()
