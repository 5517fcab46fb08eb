"""Video stylisation: the PyAV pipeline (timing, audio, atomic output), the temporal blender
(flow, occlusions, cuts) and the warping error, on synthetic clips made here."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")
pytest.importorskip("cv2")

from atelier.errors import Cancelled, InputError  # noqa: E402
from atelier.video import io as vio  # noqa: E402
from atelier.video.flow import flow, gray, reliable, warp, warping_error  # noqa: E402
from atelier.video.settings import VideoSettings  # noqa: E402
from atelier.video.stylize import FramePainter, output_size, stylize_video  # noqa: E402
from atelier.video.temporal import TemporalBlender, histogram_distance  # noqa: E402


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """30 frames at 29.97 fps, panning 2 px a frame, with a 440 Hz AAC track."""
    return vio.synthetic_clip(tmp_path_factory.mktemp("clips") / "pan.mp4", frames=30)


def streams(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        result = {
            "rate": video.average_rate,
            "frames": sum(1 for _ in container.decode(video)),
            "video_seconds": float(video.duration * video.time_base),
        }
    with av.open(str(path)) as container:
        if container.streams.audio:
            audio = container.streams.audio[0]
            result["audio_seconds"] = float(audio.duration * audio.time_base)
            samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio)])
            result["audio_rms"] = float(np.sqrt((samples**2).mean()))
    return result


def test_stylize_keeps_frames_rate_duration_and_audio(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    summary = stylize_video(clip, ["starry-night"], out, settings=VideoSettings())
    before, after = streams(clip), streams(out)
    assert summary["frames"] == before["frames"] == after["frames"] == 30
    assert after["rate"] == Fraction(30000, 1001)  # 29.97 stays 29.97, exactly
    assert after["video_seconds"] == pytest.approx(before["video_seconds"], abs=1e-3)
    assert after["audio_seconds"] == pytest.approx(before["audio_seconds"], abs=0.03)
    assert after["audio_rms"] == pytest.approx(before["audio_rms"], rel=0.05)  # the sine wave, not silence
    painted, original = vio.read_all(out), vio.read_all(clip)
    assert np.abs(painted[5].astype(float) - original[5]).mean() > 10  # really painted


def test_start_end_cut_frames_and_audio(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "part.mp4"
    summary = stylize_video(clip, ["the-scream"], out, settings=VideoSettings(start=0.3, end=0.7, temporal="off"))
    # frames whose time t satisfies 0.3 <= t < 0.7 at 29.97 fps: 9 ... 20
    assert summary["frames"] == 12 == streams(out)["frames"]
    assert streams(out)["audio_seconds"] == pytest.approx(0.4, abs=0.05)


def test_audio_mp4_cannot_hold_is_reencoded_to_aac(tmp_path: Path) -> None:
    source = tmp_path / "camera.mov"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream("pcm_s16le", rate=48000)
        for i in range(25):
            frame = av.VideoFrame.from_ndarray(vio_texture(i), format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        wave = (0.3 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000) * 32767).astype(np.int16)
        for begin in range(0, 48000, 1024):
            chunk = av.AudioFrame.from_ndarray(wave[None, begin : begin + 1024], format="s16", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, begin
            for packet in sound.encode(chunk):
                container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)
    out = tmp_path / "out.mp4"
    assert stylize_video(source, ["the-scream"], out)["audio"] == "pcm_s16le"
    after = streams(out)
    assert vio.probe(out).audio == "aac" and after["audio_seconds"] == pytest.approx(1.0, abs=0.05) and after["audio_rms"] > 0.05


def vio_texture(i: int) -> np.ndarray:
    return np.roll(textured(48, 64), 2 * i, axis=1)


def test_variable_frame_rate_timestamps_are_kept(tmp_path: Path) -> None:
    source = tmp_path / "vfr.mp4"
    times_ms = [0, 40, 60, 150, 160, 300, 310, 500]
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    out = tmp_path / "vfr-out.mp4"
    stylize_video(source, ["the-scream"], out, settings=VideoSettings(temporal="off"))
    seen = [round(f.time * 1000) for f in vio.VideoReader(out)]
    assert seen == times_ms


def test_odd_sizes_and_small_clips_are_not_enlarged(tmp_path: Path) -> None:
    assert output_size(97, 65, 640) == (96, 64)  # never enlarged; H.264 needs even sides
    assert output_size(1920, 1080, 640) == (640, 360)
    assert output_size(1081, 1921, 0) == (1080, 1920)
    source = tmp_path / "odd.mkv"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 97, 65, "bgr0"
        for i in range(4):
            frame = av.VideoFrame.from_ndarray(np.full((65, 97, 3), 40 * i, np.uint8), format="rgb24").reformat(format="bgr0")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    out = tmp_path / "odd-out.mp4"
    summary = stylize_video(source, ["the-scream"], out)
    assert (summary["width"], summary["height"]) == (96, 64)
    assert vio.read_all(out)[0].shape == (64, 96, 3)


def test_rotated_clips_are_painted_upright(clip: Path, tmp_path: Path, monkeypatch) -> None:
    # PyAV cannot write a display matrix, so the rotation a phone records is simulated where it is read.
    monkeypatch.setattr(vio, "_frame_rotation", lambda frame: 90)
    info = vio.probe(clip)
    assert (info.width, info.height, info.rotation) == (64, 96, 90)
    first = next(iter(vio.VideoReader(clip))).image
    monkeypatch.undo()
    plain = next(iter(vio.VideoReader(clip))).image
    np.testing.assert_array_equal(first, np.rot90(plain, k=-1))  # turned clockwise, as players do
    assert vio._frame_rotation(type("F", (), {"rotation": -90})()) == 90  # FFmpeg's sign: -90 means turn clockwise


def test_cancel_and_ctrl_c_leave_no_output(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the previous result")
    cancel = threading.Event()

    def stop_after_five(event) -> None:
        if event.step >= 5:
            cancel.set()

    with pytest.raises(Cancelled):
        stylize_video(clip, ["starry-night"], out, on_progress=stop_after_five, cancel=cancel)

    def interrupt(event) -> None:
        if event.step >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stylize_video(clip, ["starry-night"], out, on_progress=interrupt)
    assert out.read_bytes() == b"the previous result"  # untouched, never half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # no temporary file left


def test_bad_inputs_get_one_clear_error(tmp_path: Path, clip: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(InputError, match="not a video file"):
        vio.probe(text)
    sound = tmp_path / "sound.m4a"
    with av.open(str(sound), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(InputError, match="no video stream"):
        vio.probe(sound)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # a download that stopped half way
    with pytest.raises(InputError, match="cut.mp4"):
        stylize_video(cut, ["starry-night"], tmp_path / "o.mp4")
    with pytest.raises(InputError, match=r"\.mp4"):
        stylize_video(clip, ["starry-night"], tmp_path / "out.gif")
    with pytest.raises(InputError, match="never overwrites an input"):
        stylize_video(clip, ["starry-night"], clip)
    with pytest.raises(InputError, match="--start"):
        stylize_video(clip, ["starry-night"], tmp_path / "o.mp4", settings=VideoSettings(start=5))
    with pytest.raises(InputError, match="no such file and no built-in"):
        stylize_video(clip, ["no-such-style"], tmp_path / "o.mp4")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(InputError):
        stylize_video(clip, [str(broken)], tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()


def test_cli_stylize_and_info(clip: Path, tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "atelier", "video"]
    out = tmp_path / "cli.mp4"
    run = subprocess.run(
        [*cli, "stylize", str(clip), "-s", "the-scream", "-o", str(out), "--end", "0.5", "--json"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["frames"] == 15
    info = json.loads(subprocess.run([*cli, "info", str(out), "--json"], capture_output=True, text=True, check=True).stdout)
    assert info["fps_ratio"] == "30000/1001" and info["audio"] == "aac"
    bad = subprocess.run(
        [*cli, "stylize", str(tmp_path / "missing.mp4"), "-s", "the-scream", "-o", str(out)], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "no such file" in bad.stderr and "Traceback" not in bad.stderr


# -- flow, blending, warping error ------------------------------------------------------------


def textured(h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.random((h // 6 + 2, w // 6 + 2, 3)).astype(np.float32)
    return (cv2.resize(small, (small.shape[1] * 6, small.shape[0] * 6), interpolation=cv2.INTER_CUBIC)[:h, :w].clip(0, 1) * 255).astype(
        np.uint8
    )


def test_flow_finds_a_shift_and_warp_undoes_it() -> None:
    scene = textured(80, 120)
    a, b = scene[:, 10:90], scene[:, 13:93]  # b shows the scene moved 3 px to the left
    f = flow(gray(a), gray(b))
    assert np.median(f[..., 0]) == pytest.approx(-3, abs=0.3)
    assert np.median(f[..., 1]) == pytest.approx(0, abs=0.3)
    back = warp(b.astype(np.float32), f)
    inner = (slice(8, -8), slice(8, -8))
    assert np.abs(back[inner] - a[inner].astype(np.float32)).mean() < 6


def test_forward_backward_check_flags_disagreeing_flows() -> None:
    forward = np.zeros((20, 30, 2), np.float32)
    forward[..., 0] = 2
    backward = -forward.copy()
    assert reliable(forward, backward)[:, 3:].all()  # consistent: reliable (except where it leaves the frame)
    assert not reliable(forward, backward)[:, :2].any()
    backward[5:10, 10:20] = 5  # a region whose flows disagree (an occlusion)
    mask = reliable(forward, backward)
    assert not mask[5:10, 10:20].any() and mask[12:, 10:20].all()


def test_warping_error_by_hand() -> None:
    still = [np.full((16, 16, 3), 100, np.uint8)] * 3
    assert warping_error(still, still) == 0
    outputs = [np.full((16, 16, 3), v, np.float32) for v in (0.2, 0.5, 0.5)]
    # pairs: 3 channels * 0.3^2 = 0.27, then 0
    assert warping_error(still, outputs) == pytest.approx(0.135, abs=1e-6)


def test_blender_carries_strokes_along_motion_and_restarts_at_cuts() -> None:
    scene = textured(64, 160)
    frames = [scene[:, 2 * i : 2 * i + 96] for i in range(12)]
    rng = np.random.default_rng(1)
    noisy = [np.clip(f / 255 + rng.normal(0, 0.1, f.shape), 0, 1).astype(np.float32) for f in frames]  # flickery "paintings"
    blender = TemporalBlender(carry=0.7)
    steady = [blender(f, p).image for f, p in zip(frames, noisy)]
    assert warping_error(frames, steady) < 0.6 * warping_error(frames, noisy)
    other = textured(64, 96, seed=5)
    after_cut = blender(255 - other, np.full((64, 96, 3), 0.5, np.float32))
    assert after_cut.cut and blender.cuts == 1
    np.testing.assert_array_equal(after_cut.image, 0.5)  # nothing of the last shot ghosts in
    assert histogram_distance(gray(frames[0]), gray(frames[1])) < 0.1


def test_temporal_beats_frame_by_frame_on_a_panning_clip(tmp_path: Path) -> None:
    source = vio.synthetic_clip(tmp_path / "pan.mp4", width=128, height=96, frames=16, pan=3, audio=False)
    errors = {}
    for mode in ("off", "on"):
        out = tmp_path / f"{mode}.mp4"
        stylize_video(source, ["starry-night"], out, settings=VideoSettings(temporal=mode))
        errors[mode] = warping_error(vio.read_all(source), vio.read_all(out))
    assert errors["on"] < 0.8 * errors["off"]


def test_a_scene_cut_restarts_the_chain(tmp_path: Path) -> None:
    source = vio.synthetic_clip(tmp_path / "cut.mp4", frames=16, cut_at=8, audio=False)
    summary = stylize_video(source, ["the-scream"], tmp_path / "cut-out.mp4")
    assert summary["cuts"] == 1


def test_frame_painter_blends_builtins_with_paintings(painting: Path) -> None:
    frame = textured().astype(np.float32) / 255
    painter = FramePainter(["the-scream"], None, VideoSettings(), frame.shape[:2])
    # frames keep the covariance-only transform: the sliced matching flickers (docs/video.md)
    assert painter.style_settings.match_passes == 0 and painter.style_settings.palette_match == 0
    one = painter(frame)
    mixed = FramePainter(["the-scream", str(painting)], [0.5, 0.5], VideoSettings(), frame.shape[:2])(frame)
    assert one.shape == frame.shape and np.abs(one - mixed).mean() > 0.01
    from atelier.style.fast.pack import resolve_style

    network_file = resolve_style("the-scream").onnx_path  # a style model file: its own network paints
    painter = FramePainter([str(network_file)], None, VideoSettings(), frame.shape[:2])
    assert painter.painter == "networks" and painter(frame).shape == frame.shape


MEMORY_SCRIPT = """
import resource, sys
import numpy as np
from atelier.video import io as vio
from atelier.video import stylize as vs
vs.FramePainter.__call__ = lambda self, frame: 1 - frame  # the pipeline's own memory, not the network's
clip = vio.synthetic_clip(sys.argv[1], width=320, height=240, frames=int(sys.argv[2]), audio=True)
vs.stylize_video(clip, ["the-scream"], sys.argv[1] + ".out.mp4")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def test_memory_stays_flat_on_a_long_clip(tmp_path: Path) -> None:
    peaks = {}
    for frames in (30, 450):
        run = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path / f"long{frames}.mp4"), str(frames)], capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        peaks[frames] = float(run.stdout.split()[-1])
    # 420 more frames held as floats would be 380 MB more; streaming keeps the peak where it was
    assert peaks[450] - peaks[30] < 40, peaks
