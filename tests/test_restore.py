"""Restoration: metrics against hand-computed values and scikit-image, the networks' shapes and
determinism, training and resume, Deep Image Prior, masks, the classical methods, the shipped
models' quality on a held-out picture, the CLI through its entry point and the studio route."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter

from atelier.errors import InputError
from atelier.metrics import psnr, ssim
from atelier.metrics.images import rgb_to_y
from atelier.restore import classical, degrade
from atelier.restore.api import denoise, inpaint, restore_file, upscale
from atelier.restore.dip import DIPSettings, numpy_dip
from atelier.restore.learned import builtin_models, estimate_sigma
from atelier.restore.masks import load_mask, scratch_mask
from atelier.restore.models import Denoiser, DenoiserConfig, SRConfig, SuperResolver

CLI = [sys.executable, "-m", "atelier"]


def picture(name: str = "astronaut", side: int = 128) -> np.ndarray:
    from skimage import data

    array = np.asarray(getattr(data, name)())
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return np.asarray(Image.fromarray(array[..., :3]).resize((side, side), Image.LANCZOS), dtype=np.float32) / 255.0


# -- metrics ------------------------------------------------------------------------------


def test_psnr_by_hand_and_against_scikit_image() -> None:
    a = np.zeros((8, 8, 3))
    assert psnr(a, a + 0.1) == pytest.approx(20.0)  # mse 0.01 -> 10 log10(1 / 0.01)
    assert psnr(a, a) == float("inf")
    from skimage.metrics import peak_signal_noise_ratio

    rng = np.random.default_rng(0)
    x, y = rng.random((20, 30, 3)), rng.random((20, 30, 3))
    assert psnr(x, y) == pytest.approx(peak_signal_noise_ratio(x, y, data_range=1.0))
    with pytest.raises(ValueError):
        psnr(x, y[:10])


def test_y_channel_and_border_follow_the_papers() -> None:
    # BT.601 as MATLAB's rgb2ycbcr: white -> 235/255, black -> 16/255, pure green -> (16 + 128.553)/255.
    assert rgb_to_y(np.ones((1, 1, 3)))[0, 0] == pytest.approx(235 / 255)
    assert rgb_to_y(np.zeros((1, 1, 3)))[0, 0] == pytest.approx(16 / 255)
    assert rgb_to_y(np.array([[[0.0, 1.0, 0.0]]]))[0, 0] == pytest.approx((16 + 128.553) / 255)
    a = np.zeros((10, 10, 3))
    b = a.copy()
    b[0, :] = 1.0  # an error only in the border row: shaved off, the pictures are equal
    assert psnr(a, b, border=1) == float("inf") and psnr(a, b) < 20
    # Y only: a change that keeps luma (more red, less green in the right ratio) is invisible.
    c, d = a.copy(), a.copy()
    c[..., 0] += 0.1 * 128.553 / 65.481
    d[..., 1] += 0.1
    assert psnr(c, d, y_only=True) > 300 and psnr(c, d) < 25  # equal up to rounding


def test_ssim_matches_scikit_image_with_the_papers_window() -> None:
    from skimage.metrics import structural_similarity

    x = picture("camera", 64)[..., 0]
    y = np.clip(x + np.random.default_rng(1).normal(0, 0.05, x.shape), 0, 1)
    expected = structural_similarity(x, y, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert ssim(x, y) == pytest.approx(expected) and ssim(x, x) == pytest.approx(1.0)


# -- the networks ----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_super_resolver_shapes_and_starts_from_bicubic(scale: int) -> None:
    torch.manual_seed(0)
    net = SuperResolver(SRConfig(channels=8, blocks=1)).eval()
    x = torch.rand(2, 3, 13, 17)  # odd sizes
    with torch.no_grad():
        out = net(x, scale)
    assert out.shape == (2, 3, 13 * scale, 17 * scale)
    # The tails start at zero: an untrained network is exactly bicubic.
    assert torch.allclose(out, F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False))
    with pytest.raises(ValueError):
        net(x, 5)


def test_denoiser_keeps_any_size_and_is_deterministic() -> None:
    torch.manual_seed(0)
    net = Denoiser(DenoiserConfig(channels=8, blocks=1)).eval()
    torch.nn.init.normal_(net.tail.weight, std=0.05)  # the tail starts at zero ("no change")
    x = torch.rand(2, 3, 15, 22)
    with torch.no_grad():
        a, b = net(x, torch.tensor([0.1, 0.2])), net(x, torch.tensor([0.1, 0.2]))
        c = net(x, 0.3)
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)


def test_tiles_give_the_same_picture_as_one_pass() -> None:
    from atelier.restore.learned import tiled

    torch.manual_seed(0)
    sr = SuperResolver(SRConfig(channels=8, blocks=1)).eval()
    for tail in sr.tails.values():
        torch.nn.init.normal_(tail.weight, std=0.05)  # not bicubic only
    dn = Denoiser(DenoiserConfig(channels=8, blocks=1)).eval()
    torch.nn.init.normal_(dn.tail.weight, std=0.05)
    rgb = picture("coffee", 75)
    whole = tiled(lambda x: sr(x, 3), rgb, 3, tile=1000)
    assert np.allclose(tiled(lambda x: sr(x, 3), rgb, 3, tile=32, margin=12), whole, atol=1e-5)
    whole = tiled(lambda x: dn(x, 0.1), rgb, tile=1000)
    assert np.allclose(tiled(lambda x: dn(x, 0.1), rgb, tile=32, margin=12), whole, atol=1e-5)


def test_estimated_noise_level_is_close() -> None:
    rng = np.random.default_rng(0)
    clean = picture("astronaut", 256)
    for sigma in (5, 15, 25, 50):
        assert estimate_sigma(degrade.add_noise(clean, sigma, rng)) == pytest.approx(sigma, rel=0.15, abs=1.5)


def test_jpeg_blocking_sets_the_automatic_level() -> None:
    from atelier.restore.learned import blocking_level, estimate_level

    clean = picture("astronaut", 256)
    assert blocking_level(clean) == 0.0 and blocking_level(np.clip(degrade.add_noise(clean, 15, np.random.default_rng(0)), 0, 1)) == 0.0
    heavy, light = blocking_level(degrade.jpeg(clean, 10)), blocking_level(degrade.jpeg(clean, 30))
    assert 10 <= heavy <= 20 and 3 <= light < heavy
    assert estimate_level(degrade.jpeg(clean, 10)) == pytest.approx(heavy)


# -- training -----------------------------------------------------------------------------


@pytest.fixture
def pictures_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pictures"
    folder.mkdir()
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        Image.fromarray((picture(name, 160) * 255).astype(np.uint8)).save(folder / f"{name}.png")
    return folder


@pytest.mark.parametrize("task", ["denoise", "upscale"])
def test_short_training_lowers_the_error_and_resumes(task: str, tmp_path: Path, pictures_folder: Path) -> None:
    from atelier.restore.settings import RestoreTrainSettings
    from atelier.restore.train import train_restorer

    settings = RestoreTrainSettings(steps=40, batch=8, patch=24, channels=16, depth=3, lr=3e-3, eval_every=40, checkpoint_every=20)
    valid = pictures_folder / "chelsea.png"
    model = tmp_path / "m.pt"
    first = train_restorer(task, pictures_folder, model, settings, valid=valid)
    with open(tmp_path / "m-log.csv") as log:
        rows = list(csv.DictReader(log))
    losses = [float(row["loss"]) for row in rows]
    assert first["steps"] == 40 and len(losses) == 40
    if task == "upscale":  # (the denoiser's loss swings with each batch's random noise level)
        assert np.mean(losses[-8:]) < np.mean(losses[:8])
    # Trained beats untrained on the held-out picture (untrained denoiser: noisy; upscaler: bicubic).
    key = "valid_psnr_s25" if task == "denoise" else "valid_psnr_x4"
    trained = float(rows[-1][key])
    clean = degrade.crop_to_multiple(np.asarray(Image.open(valid), np.float32) / 255.0, 4)
    if task == "denoise":
        baseline = psnr(degrade.add_noise(clean, 25, np.random.default_rng(25)), clean)
    else:
        low = degrade.downscale(clean[:160, :160], 4)
        bicubic = (
            F.interpolate(torch.from_numpy(low).permute(2, 0, 1)[None], scale_factor=4, mode="bicubic")[0].permute(1, 2, 0).clamp(0, 1)
        )
        baseline = psnr(bicubic.numpy(), clean[:160, :160], y_only=True, border=4)
    assert trained > baseline
    with pytest.raises(InputError, match="resume"):
        train_restorer(task, pictures_folder, model, settings, valid=valid)
    again = train_restorer(task, pictures_folder, model, RestoreTrainSettings(steps=44), valid=valid, resume=True)
    assert again["steps"] == 44
    assert json.loads((tmp_path / "m-run.json").read_text())["settings"]["channels"] == 16  # the run's own settings kept
    # The same through the command line.
    run = subprocess.run(
        [*CLI, "restore", "train", task, str(pictures_folder), "-o", str(tmp_path / "cli.pt"), "--steps", "2", "--channels", "8",
         "--depth", "2", "--patch", "16", "--batch", "2", "--json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["steps"] == 2 and (tmp_path / "cli.pt").is_file()


def test_training_can_start_from_a_models_weights(tmp_path: Path, pictures_folder: Path) -> None:
    from atelier.restore.learned import load_restorer
    from atelier.restore.settings import RestoreTrainSettings
    from atelier.restore.train import train_restorer

    tiny = RestoreTrainSettings(steps=2, batch=2, patch=16, channels=8, depth=2)
    train_restorer("upscale", pictures_folder, tmp_path / "a.pt", tiny)
    start, _ = load_restorer("upscale", tmp_path / "a.pt")
    # One step at the smallest learning rate: the new model is still the one it started from,
    # at the started-from size (8 channels, 2 blocks) although the settings leave the size to the default.
    summary = train_restorer(
        "upscale", pictures_folder, tmp_path / "b.pt", RestoreTrainSettings(steps=1, batch=2, patch=16, lr=1e-7), init=tmp_path / "a.pt"
    )
    assert summary["init"] == str(tmp_path / "a.pt")
    tuned, info = load_restorer("upscale", tmp_path / "b.pt")
    assert info["settings"]["channels"] == 8 and info["settings"]["depth"] == 2
    for name, weight in start.state_dict().items():
        assert torch.allclose(tuned.state_dict()[name], weight, atol=2e-3), name
    fresh, _ = load_restorer("upscale", tmp_path / "a.pt")
    assert fresh is start  # (the cached model served to restorers did not train)
    # A model of the other task, a size that contradicts it, or --init with --resume: one clear line each.
    train_restorer("denoise", pictures_folder, tmp_path / "d.pt", tiny)
    with pytest.raises(InputError, match="a model that does denoise, not upscale"):
        train_restorer("upscale", pictures_folder, tmp_path / "c.pt", tiny, init=tmp_path / "d.pt")
    with pytest.raises(InputError, match="--channels 16: the model given to --init has channels 8"):
        train_restorer("upscale", pictures_folder, tmp_path / "c.pt", RestoreTrainSettings(steps=1, channels=16), init=tmp_path / "a.pt")
    with pytest.raises(InputError, match="give one of them"):
        train_restorer("upscale", pictures_folder, tmp_path / "b.pt", init=tmp_path / "a.pt", resume=True)
    run = subprocess.run(
        [*CLI, "restore", "train", "upscale", str(pictures_folder), "-o", str(tmp_path / "e.pt"), "--init", str(tmp_path / "none.pt")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode != 0 and "none.pt: no such model file" in run.stderr and "Traceback" not in run.stderr


# -- Deep Image Prior ---------------------------------------------------------------------------


def test_dip_lowers_its_loss_and_keeps_known_pixels() -> None:
    rgb = picture("coffee", 32)
    hole = np.zeros((32, 32), bool)
    hole[10:20, 12:22] = True
    losses: list[float] = []
    out = numpy_dip(
        "inpaint", rgb, mask=hole, settings=DIPSettings(steps=40, channels=8), on_progress=lambda e: losses.append(e.metrics["loss"])
    )
    assert len(losses) == 40 and np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert np.array_equal(out[~hole], rgb[~hole]) and not np.array_equal(out[hole], rgb[hole])
    big = numpy_dip("upscale", rgb, scale=2, settings=DIPSettings(steps=2, channels=8))
    assert big.shape == (64, 64, 3)


# -- masks and the classical methods -------------------------------------------------------------


def test_mask_files_are_checked(tmp_path: Path) -> None:
    mask = np.zeros((20, 30), np.uint8)
    mask[5:10, 5:10] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    hole = load_mask(tmp_path / "m.png", (30, 20))
    assert hole.sum() == 25 and hole[7, 7]
    assert load_mask(tmp_path / "m.png", (30, 20), invert=True).sum() == 600 - 25
    with pytest.raises(InputError, match="30x20 but the photo is 40x20"):
        load_mask(tmp_path / "m.png", (40, 20))
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "empty.png")
    with pytest.raises(InputError, match="empty"):
        load_mask(tmp_path / "empty.png", (30, 20))
    # A mask painted on a transparent layer: the painted (opaque) part is the hole.
    layer = np.zeros((20, 30, 4), np.uint8)
    layer[2:4, 2:4] = (255, 0, 0, 255)
    Image.fromarray(layer, "RGBA").save(tmp_path / "layer.png")
    assert load_mask(tmp_path / "layer.png", (30, 20)).sum() == 4


@pytest.mark.parametrize("method", ["auto", "telea", "ns", "exemplar"])
def test_inpainting_fills_only_the_hole(method: str) -> None:
    y, x = np.mgrid[0:48, 0:48] / 48.0
    smooth = np.stack([x, y, 0.5 + 0 * x], axis=-1).astype(np.float32)
    damaged = smooth.copy()
    hole = np.zeros((48, 48), bool)
    hole[20:24, 10:40] = True
    damaged[hole] = 0.0
    out = inpaint(damaged, hole, method=method)
    assert np.array_equal(out[~hole], damaged[~hole])
    # A smooth ramp is easy to continue; the exemplar method copies patches from elsewhere instead.
    assert np.abs(out[hole] - smooth[hole]).mean() < (0.3 if method == "exemplar" else 0.12)
    assert out[hole].mean() > 0.2  # filled, not left black


def test_scratch_mask_finds_a_scratch_not_the_picture() -> None:
    rgb = picture("coffee", 192)
    rgb = np.asarray(Image.fromarray((rgb * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(2)), np.float32) / 255
    scratched = rgb.copy()
    scratched[40:160, 100] = 1.0  # a thin bright vertical scratch
    y, x = np.argwhere(rgb.mean(axis=2) > 0.5)[0]
    scratched[y, x : x + 3] = 0.0  # a speck of dust on a light part
    found = scratch_mask(scratched)
    assert found[40:160, 100].mean() > 0.9 and found[y, x + 1]
    assert found.mean() < 0.05


def test_classical_denoisers_reduce_noise() -> None:
    clean = picture("astronaut", 128)
    noisy = np.clip(degrade.add_noise(clean, 25, np.random.default_rng(0)), 0, 1)
    for method in ("nlm", "bilateral"):
        assert psnr(classical.denoise(noisy, 25, method), clean) > psnr(noisy, clean) + 2


# -- the shipped models ------------------------------------------------------------------------------

needs_builtins = pytest.mark.skipif(len(builtin_models()) < 2, reason="the built-in restorers are not installed")


@needs_builtins
def test_shipped_upscaler_beats_bicubic_on_a_held_out_picture() -> None:
    high = degrade.crop_to_multiple(picture("astronaut", 256), 4)
    low = degrade.downscale(high, 4)
    ours = upscale(low, 4)
    bicubic = classical.upscale(low, 4, "bicubic")
    assert ours.shape == high.shape
    assert psnr(ours, high, y_only=True, border=4) > psnr(bicubic, high, y_only=True, border=4) + 0.5


@needs_builtins
def test_shipped_denoiser_beats_non_local_means() -> None:
    clean = picture("chelsea", 192)
    noisy = degrade.add_noise(clean, 25, np.random.default_rng(3))
    ours, used = denoise(noisy)  # sigma estimated
    assert used == pytest.approx(25, rel=0.15)
    assert psnr(ours, clean) > psnr(classical.denoise(np.clip(noisy, 0, 1), 25, "nlm"), clean) + 0.5


# -- files, CLI and studio ------------------------------------------------------------------------------


def test_restore_file_carries_alpha_and_the_recipe(tmp_path: Path) -> None:
    from atelier.recipe import read_recipe

    rgba = np.zeros((21, 33, 4), np.uint8)
    rgba[..., :3] = (picture("coffee", 33)[:21] * 255).astype(np.uint8)
    rgba[..., 3] = 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "in.png")
    summary = restore_file("upscale", tmp_path / "in.png", tmp_path / "out.png", scale=2, method="lanczos")
    out = Image.open(tmp_path / "out.png")
    assert out.size == (66, 42) and out.mode == "RGBA" and summary["output_size"] == [66, 42]
    assert abs(np.asarray(out)[..., 3].astype(int) - 128).max() <= 1
    assert read_recipe(tmp_path / "out.png").params == {"method": "lanczos", "scale": 2}


def test_cli_restores_and_measures(tmp_path: Path) -> None:
    clean = picture("astronaut", 96)
    Image.fromarray((clean * 255).astype(np.uint8)).save(tmp_path / "clean.png")
    noisy = np.clip(degrade.add_noise(clean, 20, np.random.default_rng(0)), 0, 1)
    Image.fromarray((noisy * 255 + 0.5).astype(np.uint8)).save(tmp_path / "noisy.png")
    run = subprocess.run([*CLI, "restore", "denoise", str(tmp_path / "noisy.png"), "--method", "nlm", "-o", str(tmp_path / "d.png"), "--json"],
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["sigma_estimated"] and 14 < summary["sigma"] < 26
    measured = subprocess.run(
        [*CLI, "metrics", "psnr", str(tmp_path / "d.png"), str(tmp_path / "clean.png"), "--json"], capture_output=True, text=True
    )
    before = subprocess.run(
        [*CLI, "metrics", "psnr", str(tmp_path / "noisy.png"), str(tmp_path / "clean.png"), "--json"], capture_output=True, text=True
    )
    assert json.loads(measured.stdout)["psnr"] > json.loads(before.stdout)["psnr"]
    # User mistakes: one line, exit code 2.
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small-mask.png")
    for args, words in (
        (
            ["restore", "inpaint", str(tmp_path / "noisy.png"), "--mask", str(tmp_path / "small-mask.png"), "-o", str(tmp_path / "x.png")],
            "10x10",
        ),
        (["restore", "inpaint", str(tmp_path / "noisy.png"), "-o", str(tmp_path / "x.png")], "needs a mask"),
        (["restore", "upscale", str(tmp_path / "noisy.png"), "--scale", "5", "-o", str(tmp_path / "x.png")], "scale"),
        (["restore", "denoise", str(tmp_path / "noisy.png"), "--sigma", "loud", "-o", str(tmp_path / "x.png")], "--sigma"),
        (["metrics", "ssim", str(tmp_path / "noisy.png"), str(tmp_path / "small-mask.png")], "differ in size"),
    ):
        bad = subprocess.run([*CLI, *args], capture_output=True, text=True)
        assert bad.returncode == 2 and words in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()[-1]) > 0


def test_studio_restore_route(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from atelier.studio import create_app

    Image.fromarray((picture("coffee", 64) * 255).astype(np.uint8)).save(tmp_path / "p.png")
    mask = np.zeros((64, 64), np.uint8)
    mask[20:30, 20:40] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    Image.fromarray(mask[:32]).save(tmp_path / "wrong.png")
    with TestClient(create_app(tmp_path / "studio"), base_url="http://127.0.0.1:8765") as client:
        client.get("/")
        ids = {
            n: client.post("/api/uploads", files={"file": (n, (tmp_path / n).read_bytes(), "image/png")}).json()["id"]
            for n in ("p.png", "m.png", "wrong.png")
        }
        bad = client.post("/api/restore", json={"task": "inpaint", "photo": ids["p.png"], "mask": ids["wrong.png"]})
        assert bad.status_code == 400 and "64x32" in bad.json()["detail"] and "studio" not in bad.json()["detail"]
        assert client.post("/api/restore", json={"task": "denoise", "photo": ids["p.png"], "method": "magic"}).status_code == 400
        started = client.post("/api/restore", json={"task": "inpaint", "photo": ids["p.png"], "mask": ids["m.png"], "method": "telea"})
        assert started.status_code == 202
        with client.stream("GET", started.json()["events_url"]) as response:
            events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
        assert events[-1]["status"] == "done"
        result = client.get(f"/api/results/{started.json()['id']}.png")
        assert result.status_code == 200 and Image.open(io.BytesIO(result.content)).size == (64, 64)
