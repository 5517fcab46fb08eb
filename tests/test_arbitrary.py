"""The arbitrary-style network: training, export, the onnxruntime path, controls and the CLI.

A tiny network is trained here in a few seconds (the shipped one is too slow to train in a
test); ``ATELIER_ARBITRARY_MODEL`` points the runtime at it.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import atelier.style.arbitrary.runtime as runtime
from atelier.errors import InputError
from atelier.io import read_source
from atelier.style.arbitrary.network import ArbitraryStyleNet, Shape
from atelier.style.arbitrary.settings import ArbitrarySettings
from atelier.style.arbitrary.train import average_networks, load_network, save_network, train_arbitrary
from atelier.style.settings import StyleSettings

TINY = dict(
    recon_steps=12,
    style_steps=4,
    batch=2,
    crop=64,
    widths=(8, 8, 16, 16),
    decoder_widths=(8, 8, 16, 16),
    preview_every=0,
    checkpoint_every=100,
    skip_dropout=0.5,
)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("arbitrary") / "model"
    train_arbitrary(None, folder, ArbitrarySettings(**TINY), paintings=None)
    return folder


@pytest.fixture
def use_model(model: Path, monkeypatch) -> Path:
    monkeypatch.setenv(runtime.MODEL_ENV, str(model))
    return model


def _photo(h: int = 80, w: int = 112) -> np.ndarray:
    rgb, _ = read_source("sample:coffee")
    from atelier.io import resize_array

    return resize_array(rgb, w, h)


def test_training_lowers_the_loss_and_writes_the_model(model: Path) -> None:
    rows = list(csv.DictReader(open(model / "log.csv")))
    recon = [float(r["recon"]) for r in rows[:12]]
    assert np.mean(recon[-4:]) < 0.7 * recon[0]  # from the untrained decoder (photos vary: single steps are noisy)
    assert "style" in rows[-1] and rows[-1]["style"]
    assert {"network.pt", "encoder.onnx", "decoder.onnx", "decoder.int8.onnx", "card.json"} <= {p.name for p in model.iterdir()}


def test_export_matches_pytorch(model: Path) -> None:
    net, _ = load_network(model / "network.pt")
    onnx = runtime.Network(model, precision="fp32")
    photo = np.random.default_rng(0).random((64, 96, 3), dtype=np.float32)
    features = onnx.encode(photo)
    with torch.no_grad():
        reference = net.encoder(torch.from_numpy(photo).permute(2, 0, 1)[None])
        picture = net.decoder(reference)[0].permute(1, 2, 0).numpy()
    for a, b in zip(features, reference):
        assert np.allclose(a, b[0].numpy(), atol=1e-4)
    assert np.allclose(onnx.decode(features), picture, atol=1e-4)
    # The int8 decoder (the default) is close to it, not equal: integer weights and activations.
    int8 = runtime.Network(model)
    assert int8.precision == "int8" and int8.files[1].name == "decoder.int8.onnx"
    error = np.abs(int8.decode(features) - picture)
    assert 0 < error.mean() < 0.02, error.mean()


def test_precision_is_chosen_by_the_environment(use_model: Path, monkeypatch) -> None:
    assert runtime.network().precision == "int8"
    monkeypatch.setenv(runtime.PRECISION_ENV, "fp32")
    assert runtime.network().precision == "fp32" and runtime.network().files[1].name == "decoder.onnx"
    monkeypatch.setenv(runtime.PRECISION_ENV, "int4")
    with pytest.raises(InputError, match="int4"):
        runtime.network()


@pytest.mark.parametrize("height,width", [(80, 112), (37, 53), (8, 200)])
def test_any_size_and_strength_zero_is_the_reconstruction(use_model: Path, height: int, width: int) -> None:
    photo = _photo(height, width)
    image, runtimes, files = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings(strength=0.0))
    assert image.shape == photo.shape and runtimes == ["onnx"] and len(files) == 2
    net = runtime.network()
    padded, h, w = runtime._pad(photo, net)
    assert np.allclose(image, net.decode(net.encode(padded))[:h, :w], atol=1e-6)
    styled, _, _ = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings())
    assert np.abs(styled - image).mean() > 1e-3  # the style really changes the picture


def test_skip_dropout_blanks_level_one_only_with_level_zero() -> None:
    from atelier.style.arbitrary.train import drop_skips, skip_masks

    assert skip_masks(8, 0.0) == []
    torch.manual_seed(0)
    keep0, keep1 = (m.flatten() for m in skip_masks(4000, 0.5))
    assert torch.all(keep1 >= keep0)  # level 1 blanked => level 0 blanked
    assert abs(1 - keep0.mean().item() - 0.5) < 0.03 and abs(1 - keep1.mean().item() - 0.25) < 0.03
    features = [torch.ones(2, 1, 2, 2) for _ in range(4)]
    dropped = drop_skips(features, [torch.tensor([0.0, 1.0]).view(-1, 1, 1, 1)] * 2)
    assert dropped[0][0].sum() == 0 and dropped[0][1].sum() == 4 and dropped[3].sum() == 8


def test_training_can_see_the_runtime_transform(tmp_path: Path) -> None:
    """With ``match_passes`` the style phase gives the decoder the runtime's transform (WCT, then
    sliced passes from level 1 on); without, WCT as before; and a short run with it trains."""
    from atelier.style.arbitrary.network import ArbitraryStyleNet, Shape
    from atelier.style.arbitrary.train import sliced_features

    net = ArbitraryStyleNet(Shape((8, 8, 16, 16), (8, 8, 16, 16), 0))
    torch.manual_seed(0)
    with torch.no_grad():
        photo, painting = net.encoder(torch.rand(2, 3, 64, 64)), net.encoder(torch.rand(2, 3, 64, 64) ** 3)
        wct = net.stylize_features(photo, painting)
        plain, matched = sliced_features(photo, painting, 0), sliced_features(photo, painting, 3)
    for level, (a, b, c) in enumerate(zip(wct, plain, matched)):
        assert torch.allclose(a, b, atol=1e-3)  # NumPy's WCT is the network's
        assert (c - b).abs().mean() > 1e-4 if level >= 1 else torch.equal(c, b)
    folder = train_arbitrary(None, tmp_path / "m", ArbitrarySettings(**TINY | {"recon_steps": 2, "style_steps": 2, "match_passes": 2}))
    rows = list(csv.DictReader(open(folder / "log.csv")))
    assert len(rows) == 4 and all(np.isfinite(float(r["style"])) for r in rows[2:])


def test_painting_reconstruction_term_teaches_the_decoder_to_render_style_samples(tmp_path: Path) -> None:
    """``painting_recon_weight`` adds the style samples' own reconstruction to the style phase:
    logged, and (alone) it lowers that error."""
    settings = ArbitrarySettings(
        **TINY | {"recon_steps": 0, "style_steps": 60, "style_weight": 0.0, "content_weight": 0.0, "recon_weight": 0.0, "tv_weight": 0.0}
    )
    settings.painting_recon_weight, settings.style_learning_rate = 1.0, 3e-3
    folder = train_arbitrary(None, tmp_path / "m", settings, export=False)
    errors = [float(r["painting_recon"]) for r in csv.DictReader(open(folder / "log.csv"))]
    assert len(errors) == 60 and np.mean(errors[-10:]) < 0.8 * np.mean(errors[:10])


def test_a_run_begun_before_the_painting_term_resumes_without_it(tmp_path: Path) -> None:
    """Fields an older version did not save keep the values they had then, not today's defaults."""
    import json

    folder = train_arbitrary(None, tmp_path / "m", ArbitrarySettings(**TINY | {"recon_steps": 2, "style_steps": 0}), export=False)
    state = torch.load(folder / "checkpoint.pt", weights_only=False)
    del state["settings"]["painting_recon_weight"], state["settings"]["match_passes"]  # as older versions saved them
    torch.save(state, folder / "checkpoint.pt")
    train_arbitrary(None, folder, ArbitrarySettings(**TINY | {"recon_steps": 2, "style_steps": 2}), resume=True, export=False)
    resumed = json.loads((folder / "run.json").read_text())["settings"]
    assert resumed["painting_recon_weight"] == 0.0 and resumed["match_passes"] == 0
    assert "painting_recon" not in next(csv.DictReader(open(folder / "log.csv")))


def test_averaging_networks_of_one_run_averages_their_decoders(tmp_path: Path) -> None:
    """Weight averaging: each decoder weight is the mean of the files' (hand-computed), the
    encoder is kept; networks of another shape are refused with one line."""
    shape = Shape(widths=(8, 8, 16, 16), decoder=(8, 8, 16, 16))
    nets = [ArbitraryStyleNet(shape) for _ in range(2)]
    with torch.no_grad():
        for net, value in zip(nets, (1.0, 4.0)):
            for weight in net.decoder.parameters():
                weight.fill_(value)
    files = [save_network(net, tmp_path / f"n{i}.pt", {"trained_steps": i}) for i, net in enumerate(nets)]
    averaged, info = load_network(average_networks(files, tmp_path / "mean.pt"))
    assert all(torch.all(w == 2.5) for w in averaged.decoder.parameters())
    assert all(torch.equal(a, b) for a, b in zip(averaged.encoder.state_dict().values(), nets[1].encoder.state_dict().values()))
    assert info["trained_steps"] == 1 and len(info["averaged"]) == 2
    other = save_network(ArbitraryStyleNet(Shape(widths=(8, 8, 16, 16), decoder=(8, 8, 16, 32))), tmp_path / "other.pt", {})
    with pytest.raises(InputError, match="one shape"):
        average_networks([files[0], other], tmp_path / "bad.pt")


def test_detail_blanks_the_finest_levels_by_strength(use_model: Path) -> None:
    net = runtime.network()
    assert [net.level_weights(d) for d in (1.0, 0.5, 0.25, 0.0)] == [[1, 1, 1, 1], [0, 1, 1, 1], [0, 0.5, 1, 1], [0, 0, 1, 1]]
    photo = _photo()
    crisp, _, _ = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings(detail=1.0))
    loose, _, _ = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings(detail=0.0))
    assert np.abs(crisp - loose).mean() > 1e-3
    # strength 0 is the full reconstruction whatever the detail
    a, _, _ = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings(strength=0.0, detail=0.0))
    b, _, _ = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings(strength=0.0, detail=1.0))
    assert np.array_equal(a, b)


def test_deterministic_blends_and_colour(use_model: Path) -> None:
    photo = _photo()
    a, _, _ = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings())
    b, _, _ = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings())
    assert np.array_equal(a, b)
    only_first, _, _ = runtime.paint(photo, ["sample:astronaut", "sample:rocket"], [1.0, 0.0], StyleSettings())
    assert np.allclose(only_first, a, atol=1e-5)
    mixed, _, _ = runtime.paint(photo, ["sample:astronaut", "sample:rocket"], [0.5, 0.5], StyleSettings())
    assert not np.allclose(mixed, a, atol=1e-3)
    kept, _, _ = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings(preserve_color=True))
    from atelier.style.palette import RGB_TO_YIQ

    chroma = lambda x: x @ RGB_TO_YIQ[1:].T  # noqa: E731
    assert np.abs(chroma(kept) - chroma(photo)).mean() < 0.003  # exact but where the colour leaves the RGB cube


def test_strips_give_the_one_pass_features_statistics_and_picture(use_model: Path, monkeypatch) -> None:
    net = runtime.network()
    photo = _photo(256, 96)
    whole = net.encode(photo)
    monkeypatch.setattr(runtime, "STRIP_PIXELS", 64 * 96)  # 4 strips of 64 rows, 64 rows of context each side
    strips = runtime.encode_strips(net, photo)
    assert [f.shape for f in strips] == [f.shape for f in whole]
    for level in range(3):  # the context covers what these levels see: the same numbers
        assert np.allclose(strips[level], whole[level], atol=1e-5)
    assert np.abs(strips[3] - whole[3]).mean() < 0.02 * np.abs(whole[3]).mean() + 1e-6  # the deepest sees further
    measured = runtime.painting_statistics(net, photo)
    for level in range(3):
        reference = runtime.Statistics.of(whole[level].reshape(whole[level].shape[0], -1))
        assert np.allclose(measured[level].mean, reference.mean, atol=1e-4)
        assert np.allclose(measured[level].cov, reference.cov, atol=1e-4)
    picture = runtime.decode_strips(net, whole, 256)
    assert picture.shape == (256, 96, 3)
    assert np.abs(picture - net.decode(whole)).mean() < 2e-3


def test_painting_statistics_are_cached_by_content(use_model: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATELIER_CACHE", str(tmp_path / "cache"))
    measured = []
    measure = runtime.painting_statistics
    monkeypatch.setattr(runtime, "painting_statistics", lambda net, rgb: measured.append(1) or measure(net, rgb))
    painting = tmp_path / "painting.png"
    Image.fromarray((_photo(60, 90) * 255).astype(np.uint8)).save(painting)
    first = runtime.prepare_style([str(painting)], None, StyleSettings(), (64, 96))
    entries = list((tmp_path / "cache" / runtime.STATISTICS_CACHE).glob("*.npz"))
    assert len(measured) == 1 and len(entries) == 1
    again = runtime.prepare_style([str(painting)], None, StyleSettings(), (64, 96))
    assert len(measured) == 1  # read from the cache, not measured
    for a, b in zip(first.statistics, again.statistics):
        assert np.array_equal(a.mean, b.mean) and np.array_equal(a.cov, b.cov)  # a picture never depends on the cache
    runtime.prepare_style([str(painting)], None, StyleSettings(), (128, 192))  # another size: another entry
    assert len(measured) == 2
    Image.fromarray((_photo(60, 90)[::-1] * 255).astype(np.uint8)).save(painting)  # new content, same name
    runtime.prepare_style([str(painting)], None, StyleSettings(), (64, 96))
    assert len(measured) == 3
    entries[0].write_bytes(b"damaged")
    Image.fromarray((_photo(60, 90) * 255).astype(np.uint8)).save(painting)
    runtime.prepare_style([str(painting)], None, StyleSettings(), (64, 96))
    assert len(measured) == 4 and entries[0].stat().st_size > 1000  # measured again and rewritten


@pytest.mark.parametrize("passes", [0, 4])
def test_big_photos_are_tiled_without_seams(use_model: Path, monkeypatch, passes: int) -> None:
    # Tiles that differ a lot (a dark half and a bright half) are where per-tile statistics fail.
    # With sliced passes, the tiles also share the whole photo's sample their maps are fitted on.
    photo = _photo(160, 224)
    photo[:, 112:] = np.clip(photo[:, 112:] * 0.3 + 0.65, 0, 1)
    # the network's own pictures (calming and the palette match are tested apart)
    raw = StyleSettings(calm_halos=0.0, palette_match=0.0, match_passes=passes, strokes=0.0)
    whole, _, _ = runtime.paint(photo, ["sample:astronaut"], None, raw)
    monkeypatch.setattr(runtime, "TILE_MEGAPIXELS", 0.001)
    monkeypatch.setattr(runtime, "TILE", 96)
    monkeypatch.setattr(runtime, "HALO", 32)
    tiled, _, _ = runtime.paint(photo, ["sample:astronaut"], None, raw)
    assert tiled.shape == whole.shape
    # The same tiles and context, but each with its own statistics.
    net = runtime.network()
    padded_photo = photo  # sides are already fine for tiles of 96 px
    stats = runtime.style_statistics(net, [read_source("sample:astronaut", max_side=224)[0]], [1.0])
    own = runtime._paint_tiled(net, padded_photo, stats, 1.0, None, shared=False, passes=passes)
    shared = runtime._paint_tiled(net, padded_photo, stats, 1.0, None, shared=True, passes=passes)
    # (the same up to float32 rounding of the cached statistics, which the sliced maps' knots can move a little)
    assert np.abs(shared - tiled).max() < (1e-6 if passes == 0 else 2e-2), np.abs(shared - tiled).max()
    assert np.abs(shared - tiled).mean() < 1e-6 if passes == 0 else 1e-3
    # Shared statistics keep the tiles closer to the whole picture than tiles painted with their
    # own statistics (a dark tile and a bright tile then disagree); what remains is the context
    # a tile cannot see (its halo is 32 px here, 64 px around 1024 px tiles in use).
    assert np.abs(shared - whole).mean() < 0.85 * np.abs(own - whole).mean()


def test_strokes_paint_flat_regions_follow_the_mask_and_share_one_field_across_tiles(use_model: Path, monkeypatch) -> None:
    photo = _photo(160, 224)
    photo[:48] = [0.55, 0.7, 0.9]  # a flat sky: without strokes the transform leaves it flat
    plain = StyleSettings(strokes=0.0, calm_halos=0.0, palette_match=0.0)
    stroked = StyleSettings(strokes=2.0, calm_halos=0.0, palette_match=0.0)
    a, _, _ = runtime.paint(photo, ["sample:astronaut"], None, plain)
    b, _, _ = runtime.paint(photo, ["sample:astronaut"], None, stroked)
    sky = slice(4, 40)
    assert b[sky].std(axis=(0, 1)).mean() > 1.2 * a[sky].std(axis=(0, 1)).mean()  # marks in the flat sky (1.35x with this tiny network)
    assert np.array_equal(b, runtime.paint(photo, ["sample:astronaut"], None, stroked)[0])  # deterministic
    other, _, _ = runtime.paint(photo, ["sample:astronaut"], None, StyleSettings(strokes=2.0, calm_halos=0.0, palette_match=0.0, seed=1))
    assert not np.allclose(other, b, atol=1e-3)  # the seed draws the strokes

    # The noise goes only where the mask paints (and not at all at strength 0).
    net = runtime.network()
    features = net.encode(photo)
    field = runtime.stroke_field(photo, [f.shape[0] for f in features], [lv["stride"] for lv in net.card.levels])
    stats = runtime.style_statistics(net, [read_source("sample:astronaut", max_side=224)[0]], [1.0])
    mask = np.zeros((160, 224, 1), dtype=np.float32)
    mask[:, 112:] = 1
    moved = runtime._transform(net, [f.copy() for f in features], stats, 1.0, mask, strokes=runtime.StrokePlacement(field, 2.0))
    for f, g in zip(features, moved):  # (the mask is resized to each level: soft over a few cells at its border)
        keep = f.shape[2] // 2 - 4
        assert np.array_equal(f[..., :keep], g[..., :keep]) and not np.allclose(f[..., -keep:], g[..., -keep:])
    kept = runtime._transform(net, [f.copy() for f in features], stats, 0.0, None, strokes=runtime.StrokePlacement(field, 2.0))
    assert all(np.array_equal(f, g) for f, g in zip(features, kept))

    # Tiles read the one field of the whole photo, each at its own place (so strokes run on
    # across tiles: tests/test_arbitrary_strokes.py checks that a window at an offset is that
    # part of the field), and the field is made once.
    monkeypatch.setattr(runtime, "TILE_MEGAPIXELS", 0.001)
    monkeypatch.setattr(runtime, "TILE", 96)
    monkeypatch.setattr(runtime, "HALO", 32)
    reads, fields = set(), []
    window = runtime.StrokeField.window
    monkeypatch.setattr(
        runtime.StrokeField, "window", lambda self, level, top, left, shape: reads.add((top, left)) or window(self, level, top, left, shape)
    )
    make = runtime.stroke_field
    monkeypatch.setattr(runtime, "stroke_field", lambda *a, **k: fields.append(1) or make(*a, **k))
    tiled = runtime.paint(photo, ["sample:astronaut"], None, stroked)[0]
    # tile cores start at rows 0, 80 and columns 0, 80, 144 (on multiples of the deepest
    # stride, 16); their windows 32 px of context earlier
    assert reads == {(top, left) for top in (0, 48) for left in (0, 48, 112)} and len(fields) == 1
    # ... and the tiles' shared statistics are those of the features with the noise, as one pass
    # measures them: tiles stay as close to the one-pass picture as they do without strokes.
    tiled_plain = runtime.paint(photo, ["sample:astronaut"], None, plain)[0]
    assert np.abs(tiled - b).mean() < 1.2 * np.abs(tiled_plain - a).mean() + 1e-4, (
        np.abs(tiled - b).mean(),
        np.abs(tiled_plain - a).mean(),
    )


def _cli(*args, env_model: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ATELIER_THREADS": "2", "COLUMNS": "120"}
    if env_model is not None:
        env[runtime.MODEL_ENV] = str(env_model)
    return subprocess.run([sys.executable, "-m", "atelier", *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def test_cli_both_engines_mask_and_bad_paintings(model: Path, tmp_path: Path, photo: Path, painting: Path) -> None:
    fast = _cli("stylize", photo, "-s", painting, "--engine", "fast", "-o", tmp_path / "fast.png", "--json", env_model=model)
    assert fast.returncode == 0, fast.stderr
    assert '"engine": "arbitrary"' in fast.stdout
    slow = _cli(
        "stylize",
        photo,
        "-s",
        painting,
        "--engine",
        "optimize",
        "--size",
        "48",
        "--steps",
        "4",
        "-o",
        tmp_path / "slow.png",
        env_model=model,
    )
    assert slow.returncode == 0, slow.stderr
    assert max(Image.open(tmp_path / "slow.png").size) == 48
    # A mask: black keeps the photo exactly.
    mask = np.zeros((64, 96), dtype=np.uint8)
    mask[:, 48:] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    masked = _cli(
        "stylize",
        photo,
        "-s",
        painting,
        "--engine",
        "fast",
        "--mask",
        tmp_path / "mask.png",
        "-o",
        tmp_path / "masked.png",
        env_model=model,
    )
    assert masked.returncode == 0, masked.stderr
    out = np.asarray(Image.open(tmp_path / "masked.png"), dtype=np.int16)
    original = np.asarray(Image.open(photo).convert("RGB"), dtype=np.int16)
    assert np.abs(out[:, :40] - original[:, :40]).max() <= 1
    assert np.abs(out[:, 56:] - original[:, 56:]).mean() > 3
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a painting")
    bad = _cli("stylize", photo, "-s", notes, "--engine", "fast", "-o", tmp_path / "bad.png", env_model=model)
    assert bad.returncode == 2 and "not an image" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad.png").exists()
    missing = _cli("stylize", photo, "-s", tmp_path / "gone.jpg", "--engine", "fast", "-o", tmp_path / "bad.png", env_model=model)
    assert missing.returncode == 2 and "gone.jpg: file not found" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "bad.png").exists()
    bold = _cli("stylize", photo, "-s", painting, "--engine", "fast", "--strokes", "9", "-o", tmp_path / "bad.png", env_model=model)
    assert bold.returncode == 2 and "strokes" in bold.stderr and "Traceback" not in bold.stderr
    assert len(bold.stderr.strip().splitlines()) == 1, bold.stderr


def test_the_instant_path_never_loads_pytorch(model: Path, tmp_path: Path, photo: Path, painting: Path) -> None:
    out = tmp_path / "out.png"
    code = (
        "import sys\nfrom atelier.cli import main\n"
        f"sys.argv = ['atelier', 'stylize', {str(photo)!r}, '-s', {str(painting)!r}, '--engine', 'fast', '-o', {str(out)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('torch loaded:', 'torch' in sys.modules)\n"
    )
    env = {**os.environ, runtime.MODEL_ENV: str(model)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "torch loaded: False" in result.stdout and out.exists()


def test_studio_instant_result_then_refine(use_model: Path, tmp_path: Path, photo: Path, painting: Path) -> None:
    import json

    from fastapi.testclient import TestClient

    from atelier.recipe import read_recipe
    from atelier.studio import create_app

    with TestClient(create_app(tmp_path / "studio"), base_url="http://127.0.0.1:8765") as client:
        client.get("/")
        upload = lambda path: client.post("/api/uploads", files={"file": (path.name, path.read_bytes())}).json()["id"]  # noqa: E731
        content, style = upload(photo), upload(painting)

        def finish(response) -> list[dict]:
            assert response.status_code == 202, response.text
            with client.stream("GET", response.json()["events_url"]) as stream:
                return [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]

        fast = client.post("/api/stylize", json={"content": content, "styles": [{"id": style}], "engine": "fast", "size": 96})
        events = finish(fast)
        assert events[-1]["status"] == "done" and any(e.get("preview") for e in events)
        fast_id = fast.json()["id"]
        refined = client.post("/api/refine", json={"job": fast_id, "steps": 3})
        events = finish(refined)
        assert events[-1]["status"] == "done", events[-1]
        result = tmp_path / "refined.png"
        result.write_bytes(client.get(f"/api/results/{refined.json()['id']}.png").content)
        recipe = read_recipe(result)
        assert recipe.params["painter"] == "optimize" and recipe.params["settings"]["steps"] == 3 and "init" in recipe.inputs
        assert client.post("/api/refine", json={"job": "0123456789ab"}).status_code == 404
