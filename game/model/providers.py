"""ONNX Runtime sessions with a provider choice: ``auto`` | ``cpu`` | ``cuda``.

``auto`` takes CUDA when onnxruntime-gpu is installed and sees a GPU, else CPU. Asking for
``cuda`` where there is none falls back to CPU with a one-line notice (printed once per process).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import onnxruntime as ort

PROVIDER_CHOICES = ("auto", "cpu", "cuda")
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
INTRA_OP_THREADS = max(1, min(4, (os.cpu_count() or 2)))  # decode batches are small
_notices_shown: set[str] = set()


def notice_once(text: str) -> None:
    """Print a one-line notice to stderr, once per process."""
    if text not in _notices_shown:
        _notices_shown.add(text)
        print(f"odyssey: {text}", file=sys.stderr)


def resolve_providers(choice: str) -> list[str]:
    """Provider list for onnxruntime from a user choice (may print a fallback notice)."""
    if choice not in PROVIDER_CHOICES:
        raise ValueError(f"Unknown provider {choice!r}; choose auto, cpu or cuda.")
    available = ort.get_available_providers()
    if choice == "cpu":
        return [CPU]
    if CUDA in available:
        return [CUDA, CPU]
    if choice == "cuda":
        notice_once("CUDA was asked for but onnxruntime sees no CUDA GPU; running on the CPU.")
    return [CPU]


def make_session(path: Path | str | bytes, choice: str = "auto") -> ort.InferenceSession:
    """An InferenceSession on ``path`` (or model bytes) with the chosen providers."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = INTRA_OP_THREADS
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # errors only: the game speaks for itself
    # No busy-waiting between runs: on 2 cores ORT's spinning workers steal the frame loop's
    # CPU (navigator, cache off: 9.8 -> 4.5 ms median frame; each run 0.44 -> 0.65 ms).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    target = path if isinstance(path, bytes) else str(path)
    sess = ort.InferenceSession(target, sess_options=opts, providers=resolve_providers(choice))
    if choice in ("auto", "cuda") and CUDA in ort.get_available_providers() and sess.get_providers()[0] != CUDA:
        notice_once("CUDA provider failed to start; running on the CPU.")
    return sess


def provider_label(sess: ort.InferenceSession) -> str:
    """Short name of the provider actually running a session, for the HUD."""
    return "CUDA" if sess.get_providers()[0] == CUDA else "CPU"
