"""Reading and writing video with PyAV: streamed frame by frame (memory bounded whatever the
length), exact timestamps (29.97 stays 29.97, variable frame rate stays variable), the audio
track carried across, H.264 MP4 written atomically.

Timing is kept by copying each frame's presentation timestamp: the output video stream uses
the input's time base, so nothing is rounded to a nominal frame rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import numpy as np

from atelier.errors import InputError
from atelier.io.atomic import atomic_write

#: Audio codecs an MP4 file can hold as they are (remuxed, not re-encoded).
MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}


def _av():
    try:
        import av
    except ImportError:
        raise InputError("video needs PyAV: pip install av") from None
    return av


@dataclass
class VideoInfo:
    """What a video file holds (the first video stream; the first audio stream if any)."""

    path: Path
    width: int
    height: int
    """Displayed size: after the rotation is applied."""
    rotation: int
    """Degrees the stored picture is turned to display it upright (0, 90, 180, 270)."""
    fps: Fraction
    """Average frame rate (a ratio: 30000/1001 for 29.97)."""
    frames: int
    """Frame count from the header (an estimate from duration and rate when the header has none)."""
    duration: float
    """Seconds."""
    codec: str
    audio: str | None
    """The audio codec, None without audio."""
    time_base: Fraction
    """Of the video stream's timestamps (an output that keeps them keeps the timing exactly)."""

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "fps": float(self.fps),
            "fps_ratio": f"{self.fps.numerator}/{self.fps.denominator}",
            "frames": self.frames,
            "duration": round(self.duration, 3),
            "codec": self.codec,
            "audio": self.audio,
        }


def _open(path: str | Path):
    av = _av()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise InputError(f"{path}: not a video file ({type(error).__name__})") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: has no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None or stream.codec_context.name is None:
        container.close()
        raise InputError(f"{path}: its video codec is not supported by this build of FFmpeg")
    return container, stream


def _stream_rotation(stream) -> int:
    """The rotation a player applies, from the display matrix (or an old ``rotate`` tag)."""
    tag = stream.metadata.get("rotate")
    if tag is not None:
        try:
            return int(tag) % 360
        except ValueError:
            return 0
    return 0


def _frame_rotation(frame) -> int:
    # PyAV reports the display matrix's angle counter-clockwise; players turn the picture back.
    angle = getattr(frame, "rotation", 0) or 0
    return int(round(-angle / 90.0)) * 90 % 360


def probe(path: str | Path) -> VideoInfo:
    """The facts of a video file; one clear error for anything that is not a playable video."""
    container, stream = _open(path)
    try:
        rotation = _stream_rotation(stream)
        try:  # the display matrix rides on decoded frames
            first = next(container.decode(stream))
            rotation = _frame_rotation(first) or rotation
        except StopIteration:
            raise InputError(f"{path}: its video stream has no frames") from None
        except Exception as error:  # FFmpeg's decode errors: damaged or unsupported data
            if isinstance(error, InputError):
                raise
            raise InputError(f"{path}: its video cannot be decoded ({type(error).__name__})") from None
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        duration = float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / 1e6
        frames = stream.frames or int(round(duration * fps))
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        return VideoInfo(
            Path(path),
            width,
            height,
            rotation,
            Fraction(fps),
            frames,
            duration,
            stream.codec_context.name,
            audio,
            Fraction(stream.time_base),
        )
    finally:
        container.close()


@dataclass
class Frame:
    """One decoded frame, upright, as ``(H, W, 3)`` uint8 RGB, with its timing."""

    image: np.ndarray
    pts: int
    """Presentation timestamp in the input stream's time base, counted from the clip's start."""
    time: float
    """Seconds from the clip's start."""
    index: int


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    # rotation degrees clockwise to display upright; np.rot90 turns counter-clockwise.
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90))) if rotation else image


class VideoReader:
    """Frames of ``path`` between ``start`` and ``end`` seconds, decoded one at a time."""

    def __init__(self, path: str | Path, start: float = 0.0, end: float | None = None) -> None:
        self.info = probe(path)
        if start < 0 or (end is not None and end <= start):
            raise InputError(f"--start {start} / --end {end}: give 0 <= start < end")
        if start >= self.info.duration > 0:
            raise InputError(f"--start {start}: the video is only {self.info.duration:.2f} s long")
        self.path, self.start, self.end = Path(path), start, end

    def __iter__(self) -> Iterator[Frame]:
        container, stream = _open(self.path)
        stream.thread_type = "AUTO"
        base = stream.time_base
        origin = stream.start_time or 0
        try:
            if self.start > 0:
                container.seek(int(self.start / base) + origin, stream=stream, backward=True)
            index, first_pts, last_pts = 0, None, None
            step = max(1, round(1 / (float(self.info.fps) * base)))  # one frame, in the stream's time base
            for frame in _decoded(container, stream, self.path):
                if frame.pts is None:  # some raw streams carry no timestamps: count frames instead
                    frame.pts = origin if last_pts is None else last_pts + step
                last_pts = frame.pts
                seconds = float((frame.pts - origin) * base)
                if seconds + 1e-6 < self.start:
                    continue  # decoded from the key frame before --start
                if self.end is not None and seconds >= self.end - 1e-6:
                    break
                if first_pts is None:
                    first_pts = frame.pts
                rotation = _frame_rotation(frame) or self.info.rotation
                image = _upright(frame.to_ndarray(format="rgb24"), rotation)
                yield Frame(image, frame.pts - first_pts, float((frame.pts - first_pts) * base), index)
                index += 1
        finally:
            container.close()


def _decoded(container, stream, path: Path) -> Iterator:
    """The stream's frames; damaged data FFmpeg cannot get past is one clear error."""
    av = _av()
    frames = container.decode(stream)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except av.error.FFmpegError as error:
            raise InputError(f"{path}: damaged video data FFmpeg cannot read past ({type(error).__name__})") from None
        yield frame


def even(n: int) -> int:
    """H.264 in 4:2:0 needs even sides: odd ones lose their last row or column."""
    return max(2, n - n % 2)


@dataclass
class OutputSpec:
    """What an output video is: its frames' size and timing, and where its audio comes from."""

    width: int
    height: int
    time_base: Fraction
    """Of the frames' timestamps (the input stream's, so timing is copied exactly)."""
    fps: Fraction
    audio_from: Path | None = None
    """A file whose first audio stream is carried across (None: no audio)."""
    start: float = 0.0
    """Seconds: the audio is cut to [start, end) and moved to 0, like the frames."""
    end: float | None = None
    crf: int = 18


class VideoWriter:
    """H.264 MP4 written into ``stream`` (an open binary file), frames given with their input
    timestamps; the audio of ``spec.audio_from`` between ``start`` and ``end`` copied across
    (re-encoded to AAC only when MP4 cannot hold its codec)."""

    def __init__(self, stream: BinaryIO, spec: OutputSpec) -> None:
        av = _av()
        self.container = av.open(stream, "w", format="mp4")
        self.video = self.container.add_stream("libx264", rate=spec.fps)
        self.video.width, self.video.height = even(spec.width), even(spec.height)
        self.video.pix_fmt = "yuv420p"
        self.video.time_base = spec.time_base
        self.video.codec_context.time_base = spec.time_base
        self.video.options = {"crf": str(spec.crf), "preset": "veryfast"}
        self.time_base = spec.time_base
        self.audio_source, self.audio_out, self.audio_encoder = None, None, None
        self.start, self.end = spec.start, spec.end
        if spec.audio_from is not None:
            self._open_audio(spec.audio_from)

    def _open_audio(self, path: Path) -> None:
        source = _av().open(str(path))
        if not source.streams.audio:
            source.close()
            return
        incoming = source.streams.audio[0]
        self.audio_source, self.audio_in = source, incoming
        if incoming.codec_context.name in MP4_AUDIO:
            self.audio_out = self.container.add_stream_from_template(incoming)
        else:
            self.audio_out = self.container.add_stream("aac", rate=incoming.codec_context.sample_rate or 48000)
            self.audio_encoder = True

    def write(self, image: np.ndarray, pts: int) -> None:
        """One ``(H, W, 3)`` uint8 RGB frame at ``pts`` (input time base, from the clip's start)."""
        av = _av()
        h, w = self.video.height, self.video.width
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
        frame.pts = pts
        frame.time_base = self.time_base
        for packet in self.video.encode(frame):
            self.container.mux(packet)

    def _copy_audio(self) -> None:
        """The audio between start and end, timestamps moved to the clip's start."""
        source, stream = self.audio_source, self.audio_in
        base = stream.time_base
        origin = stream.start_time or 0
        if self.start > 0:
            source.seek(int(self.start / base) + origin, stream=stream, backward=True)
        shift = int(round(self.start / base)) + origin
        resampler = None
        for packet in source.demux(stream):
            if packet.pts is None:
                continue
            seconds = float((packet.pts - origin) * base)
            if self.start > 0 and seconds + float((packet.duration or 0) * base) <= self.start:
                continue
            if self.end is not None and seconds >= self.end:
                break
            if self.audio_encoder:
                for decoded in packet.decode():
                    decoded.pts = None
                    if resampler is None:
                        resampler = _av().AudioResampler(format="fltp", layout="stereo", rate=self.audio_out.codec_context.sample_rate)
                    for chunk in resampler.resample(decoded):
                        for out in self.audio_out.encode(chunk):
                            self.container.mux(out)
                continue
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            packet.stream = self.audio_out
            self.container.mux(packet)
        if self.audio_encoder:
            for out in self.audio_out.encode(None):
                self.container.mux(out)

    def close(self) -> None:
        for packet in self.video.encode(None):
            self.container.mux(packet)
        if self.audio_source is not None:
            self._copy_audio()
            self.audio_source.close()
        self.container.close()


def write_video(path: str | Path, frames: Iterator[tuple[np.ndarray, int]], spec: OutputSpec) -> Path:
    """Write ``(image, pts)`` pairs to an H.264 MP4 at ``path``, atomically: a crash or Ctrl-C
    leaves no half-written file (the frames are consumed as they come: memory stays flat)."""

    def encode(stream: BinaryIO) -> None:
        writer = VideoWriter(stream, spec)
        for image, pts in frames:
            writer.write(image, pts)
        writer.close()

    return atomic_write(path, encode)


def read_all(path: str | Path, limit: int | None = None) -> list[np.ndarray]:
    """Every frame of a (short) video as uint8 RGB arrays: for tests and benchmarks."""
    frames = []
    for frame in VideoReader(path):
        frames.append(frame.image)
        if limit is not None and len(frames) >= limit:
            break
    return frames


def synthetic_clip(
    path: str | Path,
    *,
    width: int = 96,
    height: int = 64,
    frames: int = 30,
    fps: Fraction = Fraction(30000, 1001),
    audio: bool = True,
    pan: int = 2,
    cut_at: int | None = None,
) -> Path:
    """A test clip: a textured scene panning ``pan`` pixels a frame (a different scene after
    ``cut_at``), with a 440 Hz sine-wave AAC track when ``audio``. Written with PyAV."""
    av = _av()
    rng = np.random.default_rng(0)
    scenes = [rng.random((height // 8 + 2, (width + pan * frames) // 8 + 2, 3)) for _ in range(2)]
    import cv2

    big = [cv2.resize(s.astype(np.float32), (s.shape[1] * 8, s.shape[0] * 8), interpolation=cv2.INTER_CUBIC) for s in scenes]
    big = [(np.clip(b, 0, 1) * 255).astype(np.uint8) for b in big]
    container = av.open(str(path), "w")
    video = container.add_stream("libx264", rate=fps)
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    sound = container.add_stream("aac", rate=44100) if audio else None
    for i in range(frames):
        scene = big[1 if cut_at is not None and i >= cut_at else 0]
        picture = scene[:height, i * pan : i * pan + width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
        frame.pts = i
        frame.time_base = Fraction(1) / fps
        for packet in video.encode(frame):
            container.mux(packet)
    for packet in video.encode(None):
        container.mux(packet)
    if sound is not None:
        rate, seconds = 44100, frames / float(fps)
        samples = int(rate * seconds)
        t = np.arange(samples) / rate
        wave = (0.3 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)
        step = 1024
        for begin in range(0, samples, step):
            chunk = av.AudioFrame.from_ndarray(wave[None, begin : begin + step], format="fltp", layout="mono")
            chunk.sample_rate = rate
            chunk.pts = begin
            for packet in sound.encode(chunk):
                container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)
    container.close()
    return Path(path)
