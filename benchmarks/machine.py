"""Which machine a benchmark ran on: every results file carries this, so numbers from different
CPUs are never mixed up (docs/BENCHMARKS.md keeps one table per CPU kind)."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata

from embeddings.encoders.cpu import cpu_info


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    """CPU model, kernel-relevant flags, cores, and the versions of the libraries that run the model."""
    cpu = cpu_info()
    return {
        "cpu": cpu.model,
        "cpu_flags": list(cpu.features),
        "cpu_kind": cpu_kind(cpu.features),
        "machine": cpu.machine,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "onnxruntime": _version("onnxruntime"),
        "faiss": _version("faiss-cpu"),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def cpu_kind(features: tuple[str, ...] | list[str]) -> str:
    """The CPU kind the tables of docs/BENCHMARKS.md are kept by."""
    flags = set(features)
    if flags & {"avx512_vnni", "avx_vnni"}:
        return "x86 AVX-512 VNNI" if "avx512_vnni" in flags else "x86 AVX-VNNI"
    if "avx512f" in flags:
        return "x86 AVX-512 (no VNNI)"
    if "avx2" in flags:
        return "x86 AVX2 (no AVX-512, no VNNI)"
    return f"{platform.machine()} ({', '.join(sorted(flags)) or 'no listed features'})"
