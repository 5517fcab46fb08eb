"""Fast styles: the network, training (loss falls, exact resume), built-ins, ONNX, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_cli import assert_clean_error, atelier

from atelier.errors import Cancelled, InputError
from atelier.style.fast.model import FastStyleModel, load_model, save_model, stylize_tensor
from atelier.style.fast.network import NetworkShape, StyleNet
from atelier.style.fast.pack import BUILTIN_DIR, builtin_styles, resolve_style
from atelier.style.fast.runtime import apply_styles, find_style, run_style
from atelier.style.fast.train import TrainStyleSettings, checkpoint_path, train_style

TINY = NetworkShape((8, 12, 16), 1, 4)


def tiny_settings(**overrides) -> TrainStyleSettings:
    base = dict(steps=6, batch=2, crop=64, style_size=96, learning_rate=1e-2, preview_every=0, checkpoint_every=3, shape=TINY.to_dict())
    return TrainStyleSettings(**{**base, **overrides})


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    from skimage import data

    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(data.coffee()).resize((150, 100)).save(folder / "coffee.jpg")
    Image.fromarray(data.rocket()).resize((100, 140)).save(folder / "sub" / "rocket.png")
    (folder / "broken.jpg").write_bytes(b"not an image")
    return folder


# --- the network -----------------------------------------------------------------------


@pytest.mark.parametrize("height,width", [(64, 64), (37, 53), (8, 200)])
def test_network_keeps_any_size_and_range(height: int, width: int) -> None:
    torch.manual_seed(0)
    net = StyleNet(TINY).eval()
    out = net(torch.rand(1, 3, height, width))
    assert out.shape == (1, 3, height, width)
    assert 0 <= out.min() and out.max() <= 1


def test_network_is_deterministic_for_a_seed() -> None:
    x = torch.rand(1, 3, 40, 48)
    outs = []
    for _ in range(2):
        torch.manual_seed(3)
        outs.append(StyleNet(TINY).eval()(x))
    torch.manual_seed(4)
    other = StyleNet(TINY).eval()(x)
    assert torch.equal(outs[0], outs[1])
    assert not torch.allclose(outs[0], other)


def test_network_upsamples_by_resize_convolution() -> None:
    net = StyleNet()
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())
    assert sum(isinstance(m, torch.nn.Upsample) for m in net.modules()) == 3


def test_tiles_with_shared_statistics_match_the_whole_image_better_than_plain_tiles() -> None:
    torch.manual_seed(0)
    net = StyleNet(TINY).eval()
    # A photo whose halves differ (sky and ground): per-tile statistics would disagree.
    image = torch.rand(1, 3, 160, 320) * 0.2
    image[..., 80:, :] += 0.7
    whole = net(image)
    tiled = stylize_tensor(net, image, tile_megapixels=0.01, tile=128, overlap=32)
    assert tiled.shape == whole.shape
    from atelier.style.fast.network import InstanceNorm

    # Naive tiling: the same tiles and blending, each tile with its own statistics.
    for norm in net.modules():
        if isinstance(norm, InstanceNorm):
            assert norm.mode == "normal"  # the context manager restored ordinary behaviour
    from atelier.style.tiles import feather, tile_starts

    naive, total = torch.zeros_like(image), torch.zeros(1, 1, 160, 320)
    for y in tile_starts(160, 128, 32):
        for x in tile_starts(320, 128, 32):
            th, tw = min(128, 160 - y), min(128, 320 - x)
            w = feather(th, tw, 32, (y > 0, y + th < 160, x > 0, x + tw < 320))
            with torch.no_grad():
                naive[..., y : y + th, x : x + tw] += net(image[..., y : y + th, x : x + tw]) * w
            total[..., y : y + th, x : x + tw] += w
    naive = naive / total
    shared_error = (tiled - whole).abs().mean().item()
    naive_error = (naive - whole).abs().mean().item()
    assert shared_error < naive_error * 0.7, (shared_error, naive_error)


def test_model_file_round_trip_in_half_precision(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = FastStyleModel(StyleNet(TINY).eval(), "test", "painting.jpg", 5, {"steps": 5})
    path = save_model(model, tmp_path / "m.pt")
    loaded = load_model(path)
    assert loaded.name == "test" and loaded.trained_steps == 5
    x = torch.rand(1, 3, 32, 40)
    assert (loaded(x) - model(x)).abs().max() < 2 / 255  # fp16 storage
    (tmp_path / "other.pt").write_bytes(b"junk")
    with pytest.raises(InputError, match="not an Atelier"):
        load_model(tmp_path / "other.pt")


# --- training ----------------------------------------------------------------------------


def test_training_lowers_the_loss(tmp_path: Path, photos: Path, painting: Path) -> None:
    totals = []
    model = train_style(
        painting,
        tmp_path / "s.pt",
        tiny_settings(steps=30, checkpoint_every=30),
        content_dir=photos,
        on_progress=lambda e: totals.append(e.metrics["total"]),
    )
    assert len(totals) == 30
    assert np.mean(totals[-5:]) < 0.7 * np.mean(totals[:5])
    assert model.skipped and "broken.jpg" in model.skipped[0]
    assert (tmp_path / "s.pt").is_file() and checkpoint_path(tmp_path / "s.pt").is_file()


def test_resume_after_interruption_continues_exactly(tmp_path: Path, photos: Path, painting: Path) -> None:
    straight = train_style(painting, tmp_path / "a.pt", tiny_settings(), content_dir=photos)

    cancel = threading.Event()
    steps_seen = []

    def stop_at_four(event) -> None:
        steps_seen.append(event.step)
        if event.step == 4:
            cancel.set()

    with pytest.raises(Cancelled, match="at step 4: training state saved"):
        train_style(painting, tmp_path / "b.pt", tiny_settings(), content_dir=photos, on_progress=stop_at_four, cancel=cancel)
    resumed = train_style(painting, tmp_path / "b.pt", None, resume=True, on_progress=lambda e: steps_seen.append(e.step))
    assert steps_seen == [1, 2, 3, 4, 5, 6]
    assert resumed.trained_steps == 6
    for (name, a), b in zip(straight.network.state_dict().items(), resumed.network.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_ctrl_c_saves_what_is_done(tmp_path: Path, photos: Path, painting: Path) -> None:
    def interrupt(event) -> None:
        if event.step == 2:
            raise KeyboardInterrupt

    with pytest.raises(Cancelled, match="interrupted at step 2"):
        train_style(painting, tmp_path / "c.pt", tiny_settings(), content_dir=photos, on_progress=interrupt)
    assert load_model(tmp_path / "c.pt").trained_steps == 2
    with pytest.raises(InputError, match="already holds a training run"):
        train_style(painting, tmp_path / "c.pt", tiny_settings(), content_dir=photos)


def test_training_rejects_bad_input_before_working(tmp_path: Path, photos: Path, painting: Path) -> None:
    with pytest.raises(InputError, match="multiple of 8"):
        train_style(painting, tmp_path / "x.pt", tiny_settings(crop=70), content_dir=photos)
    with pytest.raises(InputError, match="must end in .pt"):
        train_style(painting, tmp_path / "x.onnx", tiny_settings(), content_dir=photos)
    with pytest.raises(InputError, match="nothing to resume"):
        train_style(painting, tmp_path / "x.pt", None, resume=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no readable photos"):
        train_style(painting, tmp_path / "x.pt", tiny_settings(), content_dir=empty)
    assert not list(tmp_path.glob("x.*"))


# --- ONNX --------------------------------------------------------------------------------


def test_onnx_export_matches_pytorch_at_several_sizes(tmp_path: Path) -> None:
    from atelier.style.fast.export import export_onnx

    torch.manual_seed(1)
    model = FastStyleModel(StyleNet(TINY).eval(), "t")
    save_model(model, tmp_path / "t.pt")
    model = load_model(tmp_path / "t.pt")
    onnx_path = export_onnx(tmp_path / "t.pt", tmp_path / "t.onnx")
    ref_pt, ref_onnx = find_style(tmp_path / "t.pt"), find_style(onnx_path)
    rng = np.random.default_rng(0)
    for h, w in [(64, 64), (45, 77)]:  # the second is padded to multiples of 8 and cropped
        photo = rng.random((h, w, 3), dtype=np.float32)
        a, b = run_style(ref_pt, photo), run_style(ref_onnx, photo)
        assert a.shape == b.shape == (h, w, 3)
        assert np.abs(a - b).max() < 1e-4


def test_int8_export_is_smaller_and_close(tmp_path: Path) -> None:
    from atelier.style.fast.export import export_onnx

    torch.manual_seed(1)
    save_model(FastStyleModel(StyleNet().eval(), "t"), tmp_path / "t.pt")
    plain = export_onnx(tmp_path / "t.pt", tmp_path / "t.onnx")
    small = export_onnx(tmp_path / "t.pt", tmp_path / "t8.onnx", quantize=True)
    assert small.stat().st_size < plain.stat().st_size / 2.5
    photo = np.random.default_rng(0).random((64, 96, 3), dtype=np.float32)
    a, b = run_style(find_style(plain), photo), run_style(find_style(small), photo)
    assert np.abs(a - b).mean() < 0.05


# --- built-in styles -------------------------------------------------------------------


def test_the_pack_has_the_four_paintings() -> None:
    names = {s.name for s in builtin_styles()}
    assert {"starry-night", "the-scream", "the-shipwreck", "woman-with-a-hat"} <= names
    for style in builtin_styles():
        assert style.size_bytes < 7e6, style.name  # fp16 .pt + fp32 .onnx + stored statistics with samples (1.3 MB)
        assert style.trained_steps > 0
    assert resolve_style("Starry_Night") is not None and resolve_style("The Scream") is not None
    assert resolve_style("no-such-style") is None


@pytest.mark.parametrize("style", [s.name for s in builtin_styles()])
def test_builtin_keeps_size_and_both_engines_agree(style: str) -> None:
    from skimage import data

    photo = np.asarray(Image.fromarray(data.astronaut()).resize((123, 77)), dtype=np.float32) / 255
    ref = find_style(style)
    a, b = run_style(ref, photo, "onnx"), run_style(ref, photo, "torch")
    assert a.shape == (77, 123, 3)
    assert np.abs(a - b).max() < 1e-3
    assert np.abs(a - photo).mean() > 0.05  # it really paints


def test_strength_mixing_and_colour() -> None:
    from skimage import data

    photo = np.asarray(Image.fromarray(data.coffee()).resize((96, 64)), dtype=np.float32) / 255
    names = [s.name for s in builtin_styles()][:2]
    full = [apply_styles(photo, [n]) for n in names]
    mixed = apply_styles(photo, names, weights=[0.5, 0.5])
    assert np.allclose(mixed, (full[0] + full[1]) / 2, atol=1e-5)
    assert np.allclose(apply_styles(photo, names[:1], strength=0.0), photo, atol=1e-6)
    half = apply_styles(photo, names[:1], strength=0.5)
    assert np.allclose(half, (full[0] + photo) / 2, atol=1e-5)
    kept = apply_styles(photo, names[:1], preserve_color=True)
    chroma = lambda a: np.asarray(Image.fromarray((a * 255).astype(np.uint8)).convert("YCbCr"), dtype=np.float32)[..., 1:]  # noqa: E731
    assert np.abs(chroma(kept) - chroma(photo)).mean() < np.abs(chroma(full[0]) - chroma(photo)).mean() / 3
    # strength has one meaning in every engine: above 1 pushes the style further (bolder)
    bold = apply_styles(photo, names[:1], strength=1.5)
    assert np.allclose(bold, np.clip(1.5 * full[0] - 0.5 * photo, 0, 1), atol=1e-5)
    with pytest.raises(InputError, match="between 0 and 4"):
        apply_styles(photo, names[:1], strength=5)
    with pytest.raises(InputError, match="style weight"):
        apply_styles(photo, names, weights=[1.0])


# --- command line ----------------------------------------------------------------------


def test_cli_styles_lists_the_pack() -> None:
    result = atelier("styles", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert {"starry-night", "the-scream"} <= {s["name"] for s in listed}
    assert all({"title", "artist", "date", "onnx_bytes"} <= set(s) for s in listed)
    table = atelier("styles")
    assert "The Starry Night" in table.stdout


def test_cli_stylize_with_a_builtin_keeps_the_photo_size_and_skips_torch(tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    code = (
        "import sys\nfrom atelier.cli import main\n"
        f"sys.argv = ['atelier', 'stylize', 'sample:chelsea', '--style', 'starry-night', '-o', {str(out)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('torch loaded:', 'torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "torch loaded: False" in result.stdout
    assert Image.open(out).size == (451, 300)
    info = json.loads(atelier("info", out, "--json").stdout)
    assert info["operation"] == "stylize" and info["params"]["styles"] == ["starry-night"] and info["params"]["painter"] == "arbitrary"
    again = atelier("replay", out, "-o", tmp_path / "again.png")
    assert again.returncode == 0, again.stderr
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(tmp_path / "again.png")))


def test_cli_fast_options_and_errors(tmp_path: Path, painting: Path) -> None:
    mixed = atelier(
        "stylize",
        "sample:coffee",
        "-s",
        "starry-night",
        "-s",
        "the-scream",
        "--style-weights",
        "0.7,0.3",
        "--strength",
        "0.8",
        "--preserve-color",
        "--size",
        "200",
        "-o",
        tmp_path / "mix.png",
    )
    assert mixed.returncode == 0, mixed.stderr
    assert Image.open(tmp_path / "mix.png").size == (200, 133)
    assert_clean_error(
        atelier("stylize", "sample:coffee", "-s", "starry-nite", "-o", tmp_path / "x.png"), 2, "no built-in style by that name"
    )
    blended = atelier("stylize", "sample:coffee", "-s", "starry-night", "-s", painting, "--size", "64", "-o", tmp_path / "b.png")
    assert blended.returncode == 0, blended.stderr  # a built-in (stored painting) blends with a painting file
    model_file = BUILTIN_DIR / "the-scream.onnx"
    assert_clean_error(
        atelier("stylize", "sample:coffee", "-s", model_file, "-s", painting, "-o", tmp_path / "x.png"), 2, "cannot be mixed"
    )
    assert_clean_error(
        atelier("stylize", "sample:coffee", "-s", "the-scream", "--strength", "5", "-o", tmp_path / "x.png"),
        2,
        "--strength must be between 0 and 4",
    )


def test_cli_train_style_export_and_use(tmp_path: Path, photos: Path, painting: Path) -> None:
    model = tmp_path / "mine.pt"
    trained = atelier(
        "train-style",
        "--style",
        painting,
        "--content-dir",
        photos,
        "-o",
        model,
        "--steps",
        "3",
        "--crop",
        "64",
        "--batch",
        "1",
        "--style-size",
        "96",
        "--preview-every",
        "3",
    )
    assert trained.returncode == 0, trained.stderr
    assert "skipped" in trained.stderr and "broken.jpg" in trained.stderr
    assert (tmp_path / "mine-previews" / "step_000003.png").is_file()
    more = atelier("train-style", "--style", painting, "-o", model, "--resume", "--steps", "4", "--crop", "64")
    assert more.returncode == 0, more.stderr
    assert load_model(model).trained_steps == 4
    exported = atelier("export-onnx", model, "-o", tmp_path / "mine.onnx")
    assert exported.returncode == 0, exported.stderr
    used = atelier("stylize", "sample:rocket", "-s", tmp_path / "mine.onnx", "--size", "64", "-o", tmp_path / "r.png")
    assert used.returncode == 0, used.stderr
    assert_clean_error(atelier("export-onnx", "nonsense", "-o", tmp_path / "n.onnx"), 2, "not a built-in style")


def test_default_training_photos_need_no_files() -> None:
    from atelier.style.fast.train import SAMPLE_TRAINING_PHOTOS, load_training_photos

    photos, names, skipped = load_training_photos(None, max_side=128)
    assert names == list(SAMPLE_TRAINING_PHOTOS) and not skipped
    assert all(p.shape[:2] == (1, 3) and max(p.shape[-2:]) <= 128 for p in photos)
