"""GANs: shapes, determinism, augmentation parity, data readers, checkpoint/resume, CLI."""

from __future__ import annotations

import csv
import json
import os
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from atelier.errors import InputError
from atelier.generate import GanSettings, evaluate, interpolate, load_dataset, load_generator, sample, train_gan
from atelier.generate.augment import diff_augment
from atelier.generate.models import EMA, Discriminator, Generator, calibrate_batch_norm, truncated_noise

TINY = dict(size=32, batch=8, width=16, sample_every=2, checkpoint_every=2, eval_samples=16)


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    """24 small coloured images in nested folders with mixed formats, plus one broken file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "art"
    for i in range(24):
        folder = root / ("a" if i % 2 else "b") / ("deep" if i % 3 == 0 else "")
        folder.mkdir(parents=True, exist_ok=True)
        array = (rng.random((40 + i, 50, 3)) * [255, 120, 60]).astype(np.uint8)
        Image.fromarray(array).save(folder / f"{i}.{'png' if i % 2 else 'jpg'}")
    (root / "broken.png").write_text("not an image")
    return root


@pytest.mark.parametrize("size", [32, 64, 128])
def test_shapes(size: int) -> None:
    g, d = Generator(size, 32, 16), Discriminator(size, 16)
    images = g(torch.randn(3, 32))
    assert images.shape == (3, 3, size, size) and images.min() >= -1 and images.max() <= 1
    assert d(images).shape == (3,)


def test_generator_is_deterministic_with_a_seed() -> None:
    torch.manual_seed(0)
    a = Generator(32, 16, 16).eval()
    torch.manual_seed(0)
    b = Generator(32, 16, 16).eval()
    z = truncated_noise(4, 16, None, torch.Generator().manual_seed(5))
    assert torch.equal(a(z), b(z))


def test_truncation_bounds_latents() -> None:
    z = truncated_noise(1000, 8, 0.5, torch.Generator().manual_seed(0))
    assert z.abs().max() <= 0.5 and z.std() > 0.2


def test_ema_ramp_by_hand() -> None:
    """decay = min(cap, 1 - ramp / (step + ramp + 1)); each update moves the average by 1 - decay."""
    model = torch.nn.BatchNorm1d(1)
    ema = EMA(model, decay=0.999, ramp=30)
    assert ema.decay_at(0) == pytest.approx(1 / 31)
    assert ema.decay_at(3000) == pytest.approx(1 - 30 / 3031)
    assert ema.decay_at(10**6) == 0.999
    with torch.no_grad():
        model.weight.fill_(3.0)  # the average starts at 1.0 (BatchNorm's initial weight)
        model.running_mean.fill_(5.0)
    ema.update(model, 0)  # 1 + (1 - 1/31) * (3 - 1)
    assert float(ema.model.weight) == pytest.approx(1 + 60 / 31)
    assert float(ema.model.running_mean) == 5.0  # buffers are copied, not averaged
    ema.update(model, 3000)
    assert float(ema.model.weight) == pytest.approx(1 + 60 / 31 + (30 / 3031) * (3 - 1 - 60 / 31))


class _Affine(torch.nn.Module):
    """z -> batch norm of (2 z + 1): the statistics a calibration must find are known by hand."""

    z_dim = 3

    def __init__(self) -> None:
        super().__init__()
        self.norm = torch.nn.BatchNorm1d(3, momentum=0.25)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.norm(2 * z + 1)


def test_batch_norm_calibration_measures_the_generators_own_samples() -> None:
    """Running statistics become the average over the calibration batches of the pre-norm
    activations' batch statistics (whatever they were before), the global RNG is untouched, the
    model ends in eval mode with its momentum, and the same seed gives the same statistics."""
    model = _Affine()
    with torch.no_grad():
        model.norm.running_mean.fill_(7.0)
    state = torch.random.get_rng_state()
    calibrate_batch_norm(model, 100, batch=32, seed=5)  # batches of 32, 32, 32 and 4
    assert torch.equal(torch.random.get_rng_state(), state)
    assert not model.training and model.norm.momentum == 0.25
    z = torch.Generator().manual_seed(5)
    activations = 2 * torch.cat([torch.randn(n, 3, generator=z) for n in (32, 32, 32, 4)]) + 1
    # BatchNorm's cumulative mode (momentum None): the plain average of the per-batch statistics
    sizes = (32, 32, 32, 4)
    chunks = activations.split(sizes)
    mean = sum(c.mean(0) for c in chunks) / 4
    var = sum(c.var(0, unbiased=True) for c in chunks) / 4
    assert torch.allclose(model.norm.running_mean, mean, atol=1e-6)
    assert torch.allclose(model.norm.running_var, var, atol=1e-5)
    assert abs(float(mean.mean()) - 1) < 0.3 and abs(float(var.mean()) - 4) < 1.2  # 2 z + 1: mean 1, variance 4
    again = calibrate_batch_norm(_Affine(), 100, batch=32, seed=5)
    assert torch.equal(again.norm.running_mean, model.norm.running_mean)


def test_augmentation_is_applied_identically_to_real_and_fake() -> None:
    """Same random draw, same transform: what the discriminator sees differs only by the images."""
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    a = diff_augment(x, generator=torch.Generator().manual_seed(3))
    b = diff_augment(x.clone(), generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, x)
    # it is differentiable: gradients reach the input through every augmentation
    x.requires_grad_(True)
    diff_augment(x, generator=torch.Generator().manual_seed(3)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # cutout zeroes a square; translation keeps the shape
    cut = diff_augment(torch.ones(2, 3, 32, 32), "cutout", torch.Generator().manual_seed(0))
    assert 0 < (cut == 0).float().mean() < 0.5
    with pytest.raises(ValueError):
        diff_augment(x, "rotate")


def test_folder_reader_recurses_and_skips_bad_files(collection: Path) -> None:
    data = load_dataset(collection, 32)
    assert data.images.shape == (24, 3, 32, 32) and data.images.dtype == torch.uint8
    assert len(data.skipped) == 1 and "broken.png" in data.skipped[0]
    with pytest.raises(InputError, match="32, 64, 128"):
        load_dataset(collection, 48)
    (collection.parent / "empty").mkdir()
    with pytest.raises(InputError, match="no readable images"):
        load_dataset(collection.parent / "empty", 32)


def test_cifar_reader_on_a_generated_archive(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = rng.integers(0, 255, (10, 3072), dtype=np.uint8)
    data[0, :1024] = 255  # first image: red channel full, the layout is R, G, B planes
    data[0, 1024:] = 0
    for name in ("data_batch_1", "test_batch"):
        with open(folder / name, "wb") as handle:
            pickle.dump({b"data": data, b"labels": list(range(10))}, handle)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    images = load_dataset(archive, 32).images
    assert images.shape == (20, 3, 32, 32)
    assert images[0, 0].float().mean() == 255 and images[0, 1:].float().mean() == 0
    assert load_dataset(folder, 64).images.shape == (20, 3, 64, 64)
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"nope")
    with pytest.raises(InputError, match="CIFAR"):
        load_dataset(bad, 32)


def test_checkpoint_resume_round_trip(collection: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train_gan(collection, run, GanSettings(**TINY, steps=4))
    first, meta = load_generator(run)
    assert meta["step"] == 4
    # A run killed after logging steps 5-6 but before checkpointing them, with a save cut short:
    with open(run / "log.csv", "a") as log:
        log.write("5,0.1,0.2,\n6,0.1,0.2,\n")
    stale = run / ".checkpoint.pt.x1y2z3.part"
    stale.write_bytes(b"\0" * 100)
    resumed = train_gan(collection, run, GanSettings(steps=6), resume=True)
    assert not stale.exists()
    _, meta2 = load_generator(run)
    assert meta2["step"] == 6 and meta2["settings"]["width"] == 16  # the run's own settings were kept
    rows = list(csv.DictReader(open(resumed.log)))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[-1]["fid_effnet"] and float(rows[-1]["fid_effnet"]) > 0
    assert (run / "samples" / "step_000006.png").is_file() and (run / "curves.png").is_file()
    # a straight run of 6 steps ends in the same place as 4 + resume 2 (optimiser and RNG restored)
    straight = tmp_path / "straight"
    train_gan(collection, straight, GanSettings(**TINY, steps=6))
    z = truncated_noise(4, 128, None, torch.Generator().manual_seed(0))
    assert torch.allclose(load_generator(run)[0](z), load_generator(straight)[0](z), atol=1e-5)
    with pytest.raises(InputError, match="already holds a training run"):
        train_gan(collection, run, GanSettings(**TINY, steps=2))


def test_cancel_saves_a_checkpoint(collection: Path, tmp_path: Path) -> None:
    import threading

    from atelier.errors import Cancelled

    cancel = threading.Event()
    with pytest.raises(Cancelled):
        train_gan(
            collection,
            tmp_path / "run",
            GanSettings(**{**TINY, "checkpoint_every": 100}, steps=50),
            on_progress=lambda e: cancel.set() if e.step == 3 else None,
            cancel=cancel,
        )
    assert load_generator(tmp_path / "run")[1]["step"] == 3


def test_sampling_interpolation_and_evaluation(collection: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train_gan(collection, run, GanSettings(**TINY, steps=2))
    a, b = sample(run, 4, seed=1), sample(run, 4, seed=1)
    assert a.shape == (4, 3, 32, 32) and torch.equal(a, b)
    # the average samples with batch-norm statistics measured on its own samples, not the saved ones
    from atelier.checkpoints import load_checkpoint
    from atelier.generate.train import CALIBRATION_SAMPLES, build_generator, compute_dtype

    saved = load_checkpoint(run / "checkpoint.pt", ("atelier-run-gan",))["trainer"]["generator_ema"]
    loaded = load_generator(run)[0].state_dict()
    expected = build_generator(GanSettings(**TINY))
    expected.load_state_dict(saved)
    expected = calibrate_batch_norm(expected, CALIBRATION_SAMPLES, dtype=compute_dtype("auto", torch.device("cpu"))).state_dict()
    norms = [k for k in saved if k.endswith("running_var")]
    assert norms and all(torch.equal(loaded[k], expected[k]) and not torch.equal(loaded[k], saved[k]) for k in norms)
    scores = evaluate(run, collection, n=16)
    assert scores["fid_effnet"] > 0 and "kid_effnet" in scores and scores["fd_random_vgg"] > 0
    # The real side measured once scores exactly as the folder does (benchmarks score many generators so).
    from atelier.generate.sample import real_side, score_generator

    generator = load_generator(run)[0]
    again = score_generator(generator, real_side(collection, generator.size, n=16))
    assert all(again[k] == scores[k] for k in ("fid_effnet", "kid_effnet", "fd_random_vgg"))
    # A FastGAN generator 2 steps old still has its initial batch-norm statistics and draws
    # nearly the same grey picture for every latent (GIF merges equal frames): walk a DCGAN's.
    train_gan(collection, tmp_path / "dcgan", GanSettings(**TINY, steps=2, architecture="dcgan"))
    walk = interpolate(tmp_path / "dcgan", tmp_path / "walk.gif", keyframes=2, frames_between=3)
    assert Image.open(walk).n_frames == 6


def test_projected_discriminator_trains_only_its_heads() -> None:
    from atelier.generate.projected import ProjectedDiscriminator

    torch.manual_seed(0)
    d = ProjectedDiscriminator()
    images = torch.rand(3, 3, 32, 32) * 2 - 1
    logits = d(images)
    assert logits.shape == (3, 4)  # one logit per feature scale
    trainable = {name for name, p in d.named_parameters() if p.requires_grad}
    assert trainable and all(name.startswith("heads.") for name in trainable)
    # The pretrained feature network is not part of the state (rebuilt from the installed weights).
    assert not any("block" in key or "stem" in key for key in d.state_dict())
    # Gradients reach the generated images through the frozen features (what trains G).
    fake = images.clone().requires_grad_(True)
    d(fake).mean().backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert all(p.grad is None for name, p in d.named_parameters() if not name.startswith("heads."))


def test_projected_mode_trains_and_resumes(collection: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    settings = GanSettings(**{**TINY, "batch": 4}, steps=2, discriminator="projected")
    train_gan(collection, run, settings)
    resumed = train_gan(collection, run, GanSettings(steps=3), resume=True)
    _, meta = load_generator(run)
    assert meta["step"] == 3 and meta["settings"]["discriminator"] == "projected"
    rows = list(csv.DictReader(open(resumed.log)))
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    with pytest.raises(InputError, match="--discriminator must be one of pixel, projected, dcgan"):
        train_gan(collection, tmp_path / "bad", GanSettings(**TINY, steps=1, discriminator="stylegan"))


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "atelier", *map(str, args)], capture_output=True, text=True, env={**os.environ}, timeout=300
    )


def test_cli_train_sample_interpolate_evaluate(collection: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    trained = _cli("gan", "train", collection, "--out", run, "--steps", "2", "--size", "32", "--batch", "4")
    assert trained.returncode == 0, trained.stderr
    assert _cli("gan", "sample", run, "-n", "4", "-o", tmp_path / "grid.png").returncode == 0
    assert Image.open(tmp_path / "grid.png").size == (70, 70)  # 2x2 grid of 32 px with 2 px gutters
    recipe = json.loads(_cli("info", tmp_path / "grid.png", "--json").stdout)
    assert recipe["operation"] == "gan.sample" and recipe["params"]["n"] == 4 and len(recipe["inputs"]["checkpoint"]["sha256"]) == 64
    assert _cli("gan", "interpolate", run, "-o", tmp_path / "w.gif", "--keyframes", "2", "--frames", "2").returncode == 0
    scores = _cli("gan", "evaluate", run, collection, "-n", "16", "--json")
    assert scores.returncode == 0 and json.loads(scores.stdout)["fid_effnet"] > 0
    assert recipe["backbone"] == "fastgan"
    nearest = _cli("gan", "nearest", run, collection, "-o", tmp_path / "nn.png", "-n", "3", "-k", "2", "--json")
    numbers = json.loads(nearest.stdout)
    assert Image.open(tmp_path / "nn.png").size == (3 * 34 + 2, 3 * 34 + 2)  # 3 rows: sample + 2 neighbours
    # cosine distances; each training image's nearest *other* image (itself would be 0)
    assert 0 <= numbers["closest_sample"] <= numbers["sample_to_train"] <= 2 and 0 < numbers["train_to_train"] <= 2
    again = _cli("gan", "train", collection, "--out", run, "--steps", "2")
    assert again.returncode == 2 and "--resume" in again.stderr and "Traceback" not in again.stderr
    missing = _cli("gan", "sample", tmp_path / "nothing", "-o", tmp_path / "g.png")
    assert missing.returncode == 2 and "no checkpoint" in missing.stderr


def test_ctrl_c_saves_a_checkpoint_and_says_so(collection: Path, tmp_path: Path) -> None:
    import signal
    import time

    run = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atelier",
            "gan",
            "train",
            str(collection),
            "--out",
            str(run),
            "--steps",
            "100000",
            "--size",
            "32",
            "--batch",
            "4",
            "--checkpoint-every",
            "5",
            "--sample-every",
            "1000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As in a terminal: a test run started in the background (`cmd &`) inherits an ignored
        # SIGINT, and Python then never turns Ctrl-C into KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.time() + 120
        while not (run / "checkpoint.pt").exists() and time.time() < deadline:
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # never leave a 100000-step run behind
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "training state saved" in stderr and "--resume" in stderr and "Traceback" not in stderr
    assert load_generator(run)[1]["step"] >= 5


def test_cli_options_come_from_the_library_settings() -> None:
    """The CLI declares no default or range of its own: `gan train --help` shows the library's."""
    result = subprocess.run(
        [sys.executable, "-m", "atelier", "gan", "train", "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    assert result.returncode == 0
    defaults = GanSettings()
    assert f"[default: {defaults.discriminator}]" in result.stdout and f"[default: {defaults.architecture}]" in result.stdout
    assert f"[default: {defaults.batch}]" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "atelier", "gan", "train", ".", "--out", "x", "--size", "48"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "--size must be one of 32, 64, 128" in bad.stderr


def test_standard_fid_with_user_supplied_inception_weights(collection: Path, tmp_path: Path) -> None:
    from atelier.metrics.inception import InceptionFID, inception_features, load_inception

    torch.manual_seed(0)
    # A weights file in the torchvision / pytorch-fid layout (random values: nothing is downloaded).
    state = InceptionFID().state_dict()
    state["fc.weight"] = torch.zeros(1008, 2048)
    weights = tmp_path / "pt_inception.pth"
    torch.save(state, weights)
    model = load_inception(weights)
    features = inception_features(model, torch.rand(3, 3, 40, 40))
    assert features.shape == (3, 2048) and np.isfinite(features).all()

    run = tmp_path / "run"
    train_gan(collection, run, GanSettings(**TINY, steps=1))
    scores = evaluate(run, collection, n=8, inception_weights=weights)
    assert scores["fid"] > 0 and scores["fid_effnet"] > 0

    broken = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, broken)
    with pytest.raises(InputError, match="not Inception-v3 weights"):
        load_inception(broken)
    with pytest.raises(InputError, match="pytorch-fid"):
        load_inception(tmp_path / "missing.pth")


# --- FastGAN networks (skip-layer excitation, reconstructing discriminator) -----------------


@pytest.mark.parametrize("size", [32, 64, 128])
def test_fastgan_shapes(size: int) -> None:
    from atelier.generate.fastgan import FastDiscriminator, FastGenerator

    g, d = FastGenerator(size, 32, 8), FastDiscriminator(size, 8)
    images = g(torch.randn(3, 32))
    assert images.shape == (3, 3, size, size) and images.min() >= -1 and images.max() <= 1
    assert d(images).shape == (3,)
    logits, loss = d(images, reconstruct=2, quadrant=3)
    assert logits.shape == (3,) and loss.ndim == 0 and loss > 0
    # every level r gates level 8r: 32 px has one excitation (4 -> 32), 128 px three
    assert sorted(int(r) for r in g.excite) == [r for r in (32, 64, 128) if r <= size]


def test_skip_excitation_is_a_per_channel_gate() -> None:
    from atelier.generate.fastgan import SkipExcitation

    sle = SkipExcitation(4, 3)
    fine, coarse = torch.rand(2, 3, 16, 16) + 0.5, torch.randn(2, 4, 8, 8)
    gate = sle(fine, coarse) / fine
    # one value per image and channel, the same at every pixel, strictly between 0 and 1
    assert torch.allclose(gate, gate[..., :1, :1].expand_as(gate), atol=1e-6)
    assert 0 < gate.min() and gate.max() < 1
    # zero weights: every gate is sigmoid(0) = 1/2
    with torch.no_grad():
        for p in sle.parameters():
            p.zero_()
    assert torch.allclose(sle(fine, coarse), fine / 2)


def test_quadrants_tile_the_picture() -> None:
    from atelier.generate.fastgan import quadrant_of

    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert quadrant_of(x, 0).flatten().tolist() == [0, 1, 4, 5]
    assert quadrant_of(x, 1).flatten().tolist() == [2, 3, 6, 7]
    assert quadrant_of(x, 2).flatten().tolist() == [8, 9, 12, 13]
    assert quadrant_of(x, 3).flatten().tolist() == [10, 11, 14, 15]


def test_reconstruction_loss_by_hand_and_it_learns() -> None:
    from atelier.generate.fastgan import FastDiscriminator

    torch.manual_seed(0)
    d = FastDiscriminator(64, 8)
    with torch.no_grad():  # decoders that draw mid-grey (tanh(0) = 0) everywhere
        for decoder in (d.decode_whole, d.decode_part):
            decoder[-2].weight.zero_()
            decoder[-2].bias.zero_()
    flat = torch.full((3, 3, 64, 64), 0.25)
    # L1 from 0 to 0.25, for the whole picture and for the quadrant: 0.25 + 0.25
    assert d(flat, reconstruct=2, quadrant=1)[1].item() == pytest.approx(0.5, abs=1e-6)
    # only the first `reconstruct` images are targets: a different third image changes nothing
    other = torch.cat([flat[:2], -flat[2:]])
    assert d(other, reconstruct=2, quadrant=1)[1].item() == pytest.approx(0.5, abs=1e-6)
    # the decoders learn to rebuild a picture (the self-supervision actually trains)
    d = FastDiscriminator(64, 8)
    picture = torch.rand(2, 3, 64, 64) * 2 - 1
    optimiser = torch.optim.Adam(d.parameters(), 3e-3)
    losses = []
    for step in range(40):
        loss = d(picture, reconstruct=2, quadrant=step % 4)[1]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


def test_time_limit_stops_cleanly_and_keeps_the_best(collection: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    files = train_gan(collection, run, GanSettings(**{**TINY, "eval_every": 1, "checkpoint_every": 1000}, steps=100_000), time_limit="2s")
    meta = json.loads(files.meta.read_text())
    assert meta["status"] == "time limit" and 0 < meta["step"] < 100_000
    # the state is saved at the stop, and the best generator (lowest fid_effnet) separately
    assert load_generator(run)[1]["step"] == meta["step"]
    best = load_generator(run, "best")[1]["step"]
    assert best == meta["best"]["step"] and 1 <= best <= meta["step"]
    scores = [float(r["fid_effnet"]) for r in csv.DictReader(files.log.open()) if r.get("fid_effnet")]
    assert meta["best"]["value"] == pytest.approx(min(scores), rel=1e-4)
    # --resume continues from there
    files = train_gan(collection, run, GanSettings(**TINY, steps=meta["step"] + 2), resume=True)
    assert load_generator(run)[1]["step"] == meta["step"] + 2


def test_runs_from_before_fastgan_still_load_and_resume(collection: Path, tmp_path: Path) -> None:
    """A run saved without `architecture` (and with discriminator "dcgan") is a DCGAN run."""
    from atelier.checkpoints import load_checkpoint, save_checkpoint

    run = tmp_path / "old"
    train_gan(collection, run, GanSettings(**TINY, steps=2, architecture="dcgan", precision="fp32"))
    state_path = run / "checkpoint.pt"
    data = load_checkpoint(state_path, ("atelier-run-gan",))
    settings = {k: v for k, v in data["settings"].items() if k not in ("architecture", "precision")}
    data["settings"] = {**settings, "discriminator": "dcgan", "width": 16}
    save_checkpoint(data, state_path)
    generator, meta = load_generator(run)
    assert isinstance(generator, Generator) and meta["settings"]["architecture"] == "dcgan"
    train_gan(collection, run, GanSettings(**TINY, steps=3), resume=True)
    assert load_generator(run)[1]["step"] == 3


def test_compute_precision() -> None:
    from atelier.generate.train import compute_dtype

    cpu = torch.device("cpu")
    assert compute_dtype("fp32", cpu) is None and compute_dtype("bf16", cpu) is torch.bfloat16
    assert compute_dtype("auto", cpu) in (None, torch.bfloat16)
