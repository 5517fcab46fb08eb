"""The command line through its real entry point: exit codes, messages, recipes, replay."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from atelier.io import load_image

FAST = ["--engine", "optimize", "--size", "48", "--steps", "8"]  # the optimisation engine, tiny


def atelier(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ATELIER_THREADS": "2", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "atelier", *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def assert_clean_error(result: subprocess.CompletedProcess, code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    assert text in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if not result.stderr.lstrip().startswith("Usage:"):  # (Click's own box for a missing or unknown option)
        assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr  # no progress bar left above it


def test_console_script_is_installed() -> None:
    exe = shutil.which("atelier", path=str(Path(sys.executable).parent)) or shutil.which("atelier")
    assert exe, "the 'atelier' console script is not on PATH"
    result = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("atelier ")


def test_help_teaches_with_examples() -> None:
    top = atelier("--help")
    assert top.returncode == 0 and "stylize" in top.stdout and "backbones" in top.stdout
    sub = atelier("stylize", "--help")
    assert sub.returncode == 0
    for option in ("--style-weights", "--preserve-color", "--mask", "--seed", "--strength", "--backbone", "Examples"):
        assert option in sub.stdout


def test_stylize_info_replay_round_trip(tmp_path: Path, photo: Path, painting: Path) -> None:
    out = tmp_path / "out.png"
    result = atelier("stylize", photo, "--style", painting, "-o", out, *FAST, "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stderr
    image = load_image(out)
    assert max(image.size) == 48

    info = atelier("info", out, "--json")
    assert info.returncode == 0
    recipe = json.loads(info.stdout)
    assert recipe["operation"] == "stylize" and recipe["seed"] == 7
    assert recipe["params"]["settings"]["size"] == 48
    assert recipe["inputs"]["content"]["path"] == str(photo.resolve())
    assert len(recipe["inputs"]["style[0]"]["sha256"]) == 64
    assert recipe["backbone"] == "atelier" and recipe["weights_sha256"]
    assert recipe["atelier_version"]
    assert "seed" in atelier("info", out).stdout

    again = tmp_path / "again.png"
    replayed = atelier("replay", out, "-o", again)
    assert replayed.returncode == 0, replayed.stderr
    assert (load_image(again).rgb - image.rgb).abs().max() < 1e-6  # same recipe, same picture


def test_blend_mask_and_colour_options(tmp_path: Path, photo: Path, painting: Path) -> None:
    mask = tmp_path / "mask.png"
    Image.new("L", (96, 64), 255).save(mask)
    out = tmp_path / "blend.webp"
    result = atelier(
        "stylize",
        photo,
        "-s",
        painting,
        "-s",
        photo,
        "--style-weights",
        "0.7,0.3",
        "--mask",
        mask,
        "--preserve-color",
        "--color-method",
        "histogram",
        "-o",
        out,
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_replay_warns_when_an_input_changed(tmp_path: Path, photo: Path, painting: Path) -> None:
    out = tmp_path / "out.png"
    assert atelier("stylize", photo, "-s", painting, "-o", out, *FAST).returncode == 0
    Image.new("RGB", (96, 96), "red").save(painting)
    replayed = atelier("replay", out, "-o", tmp_path / "again.png")
    assert replayed.returncode == 0 and "has changed" in replayed.stderr


@pytest.mark.parametrize(
    "args,code,text",
    [
        (["stylize", "missing.jpg", "-s", "{painting}", "-o", "{out}"], 2, "file not found"),
        (["stylize", "{notimage}", "-s", "{painting}", "-o", "{out}"], 2, "not an image"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "{out}", "--style-weights", "1,2"], 2, "--style-weights has 2 value(s)"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "{out}", "--style-weights", "a"], 2, "must be numbers"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "{out}", "--backbone", "resnet"], 2, "unknown backbone"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "{out}", "--size", "2"], 2, "--size must be between 16 and 8192"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "{out}", "--size", "0"], 2, "--size must be between 16 and 8192"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "{out}", "--size", "100000"], 2, "--size must be between 16 and 8192"),
        (["stylize", "{photo}", "-s", "starry-night", "-o", "{out}", "--size", "100000"], 2, "--size must be between 16 and 8192"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "{out}", "--strength", "nan"], 2, "--strength must be a finite number"),
        (["stylize", "{photo}", "-s", "starry-night", "-o", "{out}", "--strength", "nan"], 2, "--strength must be"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "{out}", "--style-scale", "inf"], 2, "--style-scale must be a finite number"),
        (
            ["stylize", "{photo}", "-s", "{painting}", "-s", "{painting}", "-o", "{out}", "--style-weights", "nan,1"],
            2,
            "--style-weights must be a finite number",
        ),
        (["gan", "sample", "{tmp}", "-n", "100000", "-o", "{out}"], 2, "-n must be between 1 and 1024"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "nowhere/out.png"], 2, "does not exist"),
        (["stylize", "{photo}", "-s", "{painting}", "-o", "out.gifx"], 2, "use .png, .jpg or .webp"),
        (["stylize", "{photo}", "-o", "{out}"], 2, "--style"),
        (["info", "{photo}"], 2, "no Atelier recipe"),
        (["replay", "{photo}"], 2, "no Atelier recipe"),
    ],
)
def test_user_mistakes_get_one_clear_line(tmp_path: Path, photo: Path, painting: Path, args, code, text) -> None:
    notimage = tmp_path / "notes.png"
    notimage.write_text("text")
    values = {"photo": photo, "painting": painting, "out": tmp_path / "o.png", "notimage": notimage, "tmp": tmp_path}
    result = atelier(*[a.format(**values) for a in args], cwd=tmp_path)
    assert_clean_error(result, code, text)
    assert not (tmp_path / "o.png").exists()  # nothing half-written


@pytest.mark.parametrize("which", ["photo", "painting", "mask"])
def test_bad_pictures_are_reported_before_the_optimiser_loads(tmp_path: Path, photo: Path, painting: Path, which: str) -> None:
    """The optimiser imports PyTorch (2 s): a missing or unreadable picture is reported first."""
    bad = tmp_path / "gone.jpg"
    args = {"photo": [bad, "-s", painting], "painting": [photo, "-s", bad], "mask": [photo, "-s", painting, "--mask", bad]}[which]
    code = (
        "import sys\nfrom atelier.cli import main\n"
        f"sys.argv = ['atelier', 'stylize', *{[str(a) for a in args]!r}, '--engine', 'optimize', '-o', {str(tmp_path / 'o.png')!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    print('exit', e.code, 'torch loaded:', 'torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "exit 2 torch loaded: False" in result.stdout, result.stdout + result.stderr
    assert "gone.jpg: file not found" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_vgg19_offline_is_a_clear_error(tmp_path: Path, photo: Path, painting: Path) -> None:
    env_home = tmp_path / "hub"
    result = subprocess.run(
        [sys.executable, "-m", "atelier", "stylize", photo, "-s", painting, "-o", tmp_path / "o.png", "--backbone", "vgg19", *FAST],
        capture_output=True,
        text=True,
        env={**os.environ, "TORCH_HOME": str(env_home), "ATELIER_OFFLINE": "1"},
    )
    assert_clean_error(result, 1, "vgg19-dcbb9e9d.pth")


def test_debug_shows_traceback(tmp_path: Path) -> None:
    result = atelier("--debug", "info", tmp_path / "missing.png")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_backbones_json() -> None:
    result = atelier("backbones", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    names = {p["name"] for p in data["presets"]}
    assert {"atelier", "vgg19", "efficientnet-lite0"} <= names
    assert next(p for p in data["presets"] if p["name"] == "vgg19")["offline"] is False


def test_backbones_list_layer_names_and_layer_options_are_checked(tmp_path: Path, photo: Path, painting: Path) -> None:
    data = json.loads(atelier("backbones", "--json").stdout)
    layers = {b["name"]: b["layers"] for b in data["backbones"]}
    assert "relu4_2" in layers["vgg19"] and "block15" in layers["efficientnet-lite0"]
    result = atelier("stylize", photo, "-s", painting, "-o", tmp_path / "o.png", "--style-layers", "relu1_1=x", *FAST)
    assert_clean_error(result, 2, "is not NAME=WEIGHT")
    result = atelier("stylize", photo, "-s", painting, "-o", tmp_path / "o.png", "--content-layers", "relu1_1", *FAST)
    assert_clean_error(result, 2, "no layer relu1_1")


def test_an_input_is_never_overwritten(tmp_path: Path, photo: Path, painting: Path) -> None:
    original = photo.read_bytes()
    for style in (str(painting), "starry-night"):
        result = atelier("stylize", photo, "-s", style, "-o", photo, *FAST)
        assert_clean_error(result, 2, "one of the inputs")
        assert photo.read_bytes() == original
    # the same file by another name
    alias = tmp_path / "sub" / ".." / photo.name
    (tmp_path / "sub").mkdir()
    assert_clean_error(atelier("stylize", photo, "-s", painting, "-o", alias, *FAST), 2, "one of the inputs")
    assert_clean_error(atelier("stylize", photo, "-s", painting, "--mask", painting, "-o", painting, *FAST), 2, "one of the inputs")
    assert photo.read_bytes() == original


def test_models_are_only_replaced_with_force(tmp_path: Path, painting: Path) -> None:
    model = tmp_path / "mine.pt"
    model.write_bytes(b"hours of training")
    assert_clean_error(atelier("train-style", "--style", painting, "-o", model, "--steps", "1"), 2, "--force")
    assert_clean_error(atelier("classify", "train", tmp_path, "-o", model), 2, "--force")
    onnx = tmp_path / "s.onnx"
    onnx.write_bytes(b"an earlier export")
    assert_clean_error(atelier("export-onnx", "starry-night", "-o", onnx), 2, "--force")
    assert model.read_bytes() == b"hours of training" and onnx.read_bytes() == b"an earlier export"
    forced = atelier("export-onnx", "starry-night", "-o", onnx, "--force")
    assert forced.returncode == 0, forced.stderr
    assert onnx.read_bytes() != b"an earlier export"


def _png_with_recipe(path: Path, text: str) -> Path:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("atelier:recipe", text)
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


def test_a_malformed_recipe_is_one_line(tmp_path: Path) -> None:
    cases = [
        "not json",
        '{"operation": "stylize", "params": {}}',
        '{"operation": "stylize", "params": {"settings": {"size": "big"}}, "inputs": {"content": {"path": "sample:coffee", "sha256": "x"}}}',
    ]
    for index, text in enumerate(cases):
        image = _png_with_recipe(tmp_path / f"odd{index}.png", text)
        for command in (["info", image], ["replay", image, "-o", tmp_path / "again.png"]):
            result = atelier(*command)
            assert "Traceback" not in result.stderr + result.stdout, (command, result.stderr)
            if result.returncode != 0 or command[0] == "replay":
                assert result.returncode == 2 and result.stderr.count("\n") <= 2, result.stderr
    assert not (tmp_path / "again.png").exists()


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path: Path, photo: Path, monkeypatch) -> None:
    """OSError during the write (disk full, here injected) through the real command function."""
    import errno

    from typer.testing import CliRunner

    import atelier.io.atomic as atomic
    from atelier.cli import app

    real_mkstemp = atomic.tempfile.mkstemp

    def full_disk(*args, **kwargs):
        handle, name = real_mkstemp(*args, **kwargs)
        os.close(handle)
        Path(name).unlink()
        raise OSError(errno.ENOSPC, "No space left on device", name)

    monkeypatch.setattr(atomic.tempfile, "mkstemp", full_disk)
    result = CliRunner().invoke(app, ["stylize", str(photo), "-s", "starry-night", "-o", str(tmp_path / "o.png")])
    assert result.exit_code == 1
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == [photo]


def test_recipes_of_earlier_versions_still_replay(tmp_path: Path, painting: Path) -> None:
    """PNGs written before the engines were unified carry 'stylize-fast' or the old settings."""
    from atelier.io.sources import source_sha256
    from atelier.recipe import file_sha256

    coffee = {"path": "sample:coffee", "sha256": source_sha256("sample:coffee")}
    fast = {
        "operation": "stylize-fast",
        "params": {
            "styles": ["starry-night"],
            "style_weights": None,
            "strength": 0.8,
            "preserve_color": False,
            "size": 64,
            "engine": "auto",
        },
        "inputs": {"content": coffee},
        "seed": None,
        "backbone": None,
        "weights_sha256": None,
        "atelier_version": "0.1.0",
        "created": "2026-11-01T00:00:00+00:00",
    }
    old_settings = {
        "size": 48,
        "steps": 4,
        "strength": 1.0,
        "style_weight": 300.0,
        "content_weight": 1.0,
        "tv_weight": 10.0,
        "statistic": "covariance",
        "smoothing": None,
        "optimizer": "lbfgs",
        "learning_rate": None,
        "init": "palette",
        "style_scale": 1.0,
        "preserve_color": "luminance",
        "pyramid_levels": None,
        "tile_size": 768,
        "tile_overlap": 96,
        "backbone": "atelier",
        "content_layers": None,
        "style_layers": None,
        "weights": None,
        "seed": 0,
        "preview_every": 10,
    }
    optimise = {
        "operation": "stylize",
        "params": {"settings": old_settings, "style_weights": None},
        "inputs": {"content": coffee, "style[0]": {"path": str(painting), "sha256": file_sha256(painting)}},
        "seed": 0,
        "backbone": "atelier",
        "weights_sha256": None,
        "atelier_version": "0.1.0",
        "created": "2026-11-01T00:00:00+00:00",
    }
    for name, recipe in (("fast", fast), ("optimise", optimise)):
        old = _png_with_recipe(tmp_path / f"{name}.png", json.dumps(recipe))
        result = atelier("replay", old, "-o", tmp_path / f"{name}-again.png")
        assert result.returncode == 0, result.stderr
        again = json.loads(atelier("info", tmp_path / f"{name}-again.png", "--json").stdout)
        expected = ("networks", 64) if name == "fast" else ("optimize", 48)
        assert (again["params"]["painter"], max(Image.open(tmp_path / f"{name}-again.png").size)) == expected
        if name == "optimise":
            assert again["params"]["settings"]["preserve_color"] is True and again["params"]["settings"]["color_method"] == "luminance"
