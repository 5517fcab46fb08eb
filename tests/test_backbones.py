"""Backbones: real weights, layouts, determinism, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from atelier import backbones
from atelier.backbones import vgg
from atelier.backbones.efficientnet_lite import load_classifier
from atelier.errors import BackboneError, InputError


def test_efficientnet_weights_are_real_imagenet_weights() -> None:
    """skimage's Chelsea must be classified as a cat (ImageNet classes 281-285)."""
    from skimage import data

    model = load_classifier()
    image = torch.from_numpy(data.chelsea()).permute(2, 0, 1)[None].float() / 255
    image = F.interpolate(image, size=(224, 224), mode="bilinear", antialias=True)
    encoder = backbones.get("efficientnet-lite0")
    with torch.no_grad():
        logits = model((image - encoder.mean) / encoder.std)
    assert 281 <= int(logits.argmax()) <= 285
    assert logits.softmax(1).max() > 0.5


def test_efficientnet_encoder_layers_and_strides() -> None:
    encoder = backbones.get("efficientnet-lite0")
    feats = encoder(torch.rand(1, 3, 64, 96), ["stem", "block2", "block4", "block10", "block15"])
    assert feats["stem"].shape == (1, 32, 32, 48)
    assert feats["block2"].shape == (1, 24, 16, 24)
    assert feats["block4"].shape == (1, 40, 8, 12)
    assert feats["block10"].shape == (1, 112, 4, 6)
    assert feats["block15"].shape == (1, 320, 2, 3)
    assert len(encoder.weights_sha256) == 64


def test_encoder_stops_after_deepest_requested_layer() -> None:
    encoder = backbones.get("vgg19-random-quarter")
    calls: list[str] = []
    hooks = [stage.register_forward_hook(lambda *_, n=name: calls.append(n)) for name, stage in zip(encoder.stage_names, encoder.stages)]
    try:
        encoder(torch.rand(1, 3, 32, 32), ["relu2_1"])
    finally:
        for hook in hooks:
            hook.remove()
    assert calls[-1] == "relu2_1"


def test_unknown_layer_and_backbone() -> None:
    with pytest.raises(KeyError, match="no layer"):
        backbones.get("vgg19-random-quarter")(torch.rand(1, 3, 16, 16), ["relu9_9"])
    with pytest.raises(InputError, match="unknown backbone"):
        backbones.get("resnet-9000")


def test_random_vgg_is_deterministic() -> None:
    a = vgg.build_random(width=0.25, seed=0)
    b = vgg.build_random(width=0.25, seed=0)
    c = vgg.build_random(width=0.25, seed=1)
    assert a.weights_sha256 == b.weights_sha256 != c.weights_sha256
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(a(x, ["relu3_1"])["relu3_1"], b(x, ["relu3_1"])["relu3_1"])


def test_vgg_layer_names_follow_torchvision_indices() -> None:
    features, names = vgg.vgg19_features()
    assert len(features) == 37  # torchvision's vgg19().features
    assert names.index("relu4_2") == 22 and names.index("conv1_1") == 0 and names.index("pool5") == 36


@pytest.fixture(scope="module")
def vgg_weights_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A state dict with torchvision's VGG-19 key layout, built locally (no download)."""
    features, _ = vgg.vgg19_features()
    torch.manual_seed(0)
    for module in features:
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.normal_(module.weight, std=0.01)
            torch.nn.init.normal_(module.bias, std=0.01)
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)  # extra keys are ignored
    path = tmp_path_factory.mktemp("w") / "vgg19.pth"
    torch.save(state, path)
    return path, state


def test_vgg19_loads_torchvision_layout(vgg_weights_file: tuple[Path, dict]) -> None:
    path, state = vgg_weights_file
    encoder = vgg.build_imagenet(path)
    x = torch.rand(1, 3, 16, 16)
    expected = F.relu(F.conv2d((x - encoder.mean) / encoder.std, state["features.0.weight"], state["features.0.bias"], padding=1))
    assert torch.allclose(encoder(x, ["relu1_1"])["relu1_1"], expected, atol=1e-6)
    assert encoder.weights_source == str(path)


def test_vgg19_rejects_wrong_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(2, 2)}, bad)
    with pytest.raises(BackboneError, match="not VGG-19 weights"):
        vgg.build_imagenet(bad)
    junk = tmp_path / "junk.pth"
    junk.write_text("nope")
    with pytest.raises(BackboneError, match="not a readable"):
        vgg.build_imagenet(junk)
    with pytest.raises(BackboneError, match="not found"):
        vgg.build_imagenet(tmp_path / "missing.pth")


def test_vgg19_offline_message_says_what_to_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setenv("ATELIER_OFFLINE", "1")
    with pytest.raises(BackboneError) as info:
        vgg.build_imagenet()
    message = str(info.value)
    assert vgg.VGG19_URL in message and str(tmp_path / "checkpoints" / "vgg19-dcbb9e9d.pth") in message


def test_vgg19_download_failure_is_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.delenv("ATELIER_OFFLINE", raising=False)

    def no_network(*args, **kwargs):
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    with pytest.raises(BackboneError, match="could not download.*name resolution"):
        vgg.build_imagenet()
