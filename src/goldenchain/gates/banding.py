"""CAMBI (Netflix's banding index) through the libvmaf filter of the imageio-ffmpeg binary."""

from __future__ import annotations

import json
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from goldenchain.core.checks import Check
from goldenchain.gates.grading import graded, make
from goldenchain.gates.loading import Still, box_reduce

_FEATURE = r"feature='name=cambi\:max_log_contrast=5'"
_KEY = "cambi_mlc_5"


class CambiUnavailable(Exception):
    pass


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:  # the wheel or its binary is missing
        raise CambiUnavailable(f"ffmpeg binary not available: {exc}") from None


class CambiRun:
    """One ffmpeg run measuring CAMBI (max_log_contrast=5) of 8-bit gray frames of one even size.

    The run starts at once and works beside the caller (the frames go to ffmpeg through a file, so no thread
    of ours has to feed it); :meth:`scores` waits for it. Call :meth:`close` when the scores are not wanted.
    """

    def __init__(self, frames: list[np.ndarray], timeout: float, threads: int = 2) -> None:
        exe = ffmpeg_exe()
        h, w = frames[0].shape
        self._timeout = timeout
        try:
            self._tmp = tempfile.TemporaryDirectory(prefix="gc-cambi-")
        except OSError as exc:  # no usable temporary folder: the check says so, the gate goes on
            raise CambiUnavailable(f"cannot write the frames for ffmpeg: {exc}") from None
        self._log = Path(self._tmp.name) / "cambi.json"
        raw = Path(self._tmp.name) / "frames.gray"
        try:
            with raw.open("wb") as fh:
                for f in frames:
                    fh.write(np.ascontiguousarray(f, dtype=np.uint8).data)
        except OSError as exc:  # a full temporary folder
            self._tmp.cleanup()
            raise CambiUnavailable(f"cannot write the frames for ffmpeg: {exc}") from None
        # model= (empty): no VMAF model, so libvmaf computes CAMBI alone; its default model adds the VIF, ADM
        # and motion features, which cost more than CAMBI itself and mean nothing for one picture
        graph = (
            "[0:v]format=yuv420p,split[d][r];"
            f"[d][r]libvmaf=model=:{_FEATURE}:log_fmt=json:log_path={self._log}:n_threads={threads}"
        )
        cmd = [
            exe,
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-s",
            f"{w}x{h}",
            "-r",
            "25",
            "-i",
            str(raw),
            "-lavfi",
            graph,
            "-f",
            "null",
            "-",
        ]
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self._tmp.cleanup()
            raise CambiUnavailable(f"ffmpeg failed to run: {exc}") from None

    def scores(self) -> list[float]:
        """The score of each frame, in order; raises :class:`CambiUnavailable` when ffmpeg failed."""
        proc = self._proc
        if proc is None:
            raise CambiUnavailable("CAMBI run already closed")
        try:
            _, stderr = proc.communicate(timeout=self._timeout)
            if proc.returncode != 0 or not self._log.exists():
                err = stderr.decode("utf-8", "replace").strip().splitlines()
                raise CambiUnavailable(f"ffmpeg libvmaf failed: {err[-1] if err else proc.returncode}")
            data = json.loads(self._log.read_text())
        except subprocess.TimeoutExpired as exc:
            raise CambiUnavailable(f"ffmpeg failed to run: {exc}") from None
        finally:
            self.close()
        return [float(fr["metrics"][_KEY]) for fr in data.get("frames", [])]

    def close(self) -> None:
        """Stop the run if it is still going and remove its files (idempotent)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.communicate()
        self._tmp.cleanup()


def cambi_start(frames: list[np.ndarray], timeout: float = 60.0, threads: int = 2) -> CambiRun:
    """Start measuring CAMBI of ``frames`` (non-empty, all the same even size) in the background."""
    return CambiRun(frames, timeout, threads)


def cambi_frames(frames: list[np.ndarray], timeout: float = 60.0) -> list[float]:
    """CAMBI (max_log_contrast=5) of each 8-bit gray frame; all frames must have the same even size."""
    if not frames:
        return []
    return cambi_start(frames, timeout).scores()


def even_gray(y: np.ndarray, max_side: int = 3840) -> np.ndarray:
    """uint8 gray, reduced below max_side and cropped to even dimensions (yuv420p needs them)."""
    f = 1
    while max(y.shape) // f > max_side:
        f += 1
    y = box_reduce(y, f)
    h, w = y.shape[0] // 2 * 2, y.shape[1] // 2 * 2
    return np.clip(y[:h, :w] + 0.5, 0, 255).astype(np.uint8)


def banding_frame(s: Still) -> np.ndarray | None:
    """The gray frame CAMBI measures for a still (None when it is too small to measure)."""
    if min(s.width, s.height) < 64:
        return None
    return even_gray(s.luma)


def grade_banding(score: float | None, t: dict[str, float], error: str | None = None) -> Check:
    """The banding check from a CAMBI score (None: too small; ``error``: CAMBI could not run)."""
    if error is not None:
        return make("banding", "warn", 0.0, t["banding"], "higher_is_worse", f"banding not measured: {error}")
    if score is None:
        return make("banding", "pass", 0.0, t["banding"], "higher_is_worse", "too small to measure")
    return graded(
        "banding",
        score,
        "higher_is_worse",
        t["banding"],
        t["banding.warn"],
        inclusive=True,
        ok=f"no visible banding (CAMBI {score:.1f})",
        bad=(
            f"colour banding / false contours in smooth areas: CAMBI {score:.1f} (limit {{thr:g}}; "
            "5 = starts to annoy); look at the sky, backdrop or other smooth gradients: regenerate or dither"
        ),
    )


class CambiBatch:
    """CAMBI of many stills' frames with one ffmpeg run per frame size (starting ffmpeg costs as much as
    measuring a 1024² still). The runs start at once and work beside the caller; :meth:`results` waits."""

    def __init__(self, frames: list[np.ndarray | None], timeout: float = 20.0, threads: int = 2) -> None:
        self._n = len(frames)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, f in enumerate(frames):
            if f is not None:
                groups.setdefault(f.shape, []).append(i)
        self._runs: list[tuple[list[int], CambiRun | str]] = []
        for idx in groups.values():
            try:
                chosen: list[np.ndarray] = [frames[i] for i in idx]  # type: ignore[misc]
                run: CambiRun | str = cambi_start(chosen, timeout=timeout * len(idx), threads=threads)
            except CambiUnavailable as exc:
                run = str(exc)
            self._runs.append((idx, run))

    def results(self) -> list[float | str | None]:
        """Per frame: the score, None for a None frame, or an error message."""
        out: list[float | str | None] = [None] * self._n
        for idx, run in self._runs:
            try:
                if isinstance(run, str):
                    raise CambiUnavailable(run)
                scores = run.scores()
                if len(scores) != len(idx):
                    raise CambiUnavailable(f"libvmaf returned {len(scores)} scores for {len(idx)} frames")
            except (CambiUnavailable, ValueError, KeyError) as exc:
                for i in idx:
                    out[i] = str(exc)
                continue
            for i, sc in zip(idx, scores, strict=True):
                out[i] = sc
        return out

    def close(self) -> None:
        for _, run in self._runs:
            if isinstance(run, CambiRun):
                run.close()


def cambi_batch(frames: list[np.ndarray | None], timeout: float = 20.0) -> list[float | str | None]:
    """:class:`CambiBatch`'s results for ``frames`` (waits for them)."""
    return CambiBatch(frames, timeout).results()


def check_banding(s: Still, t: dict[str, float]) -> Check:
    res = cambi_batch([banding_frame(s)])[0]
    if isinstance(res, str):
        return grade_banding(None, t, res)
    return grade_banding(res, t)
