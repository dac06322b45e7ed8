"""What this machine's CPU can do, as far as the encoder's speed depends on it: the model name
and the instruction-set features that decide which ONNX Runtime kernels run (AVX2, AVX-512,
VNNI, bf16/fp16, ARM dot products...). The measured encoder choice is cached per feature set."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# The flags ONNX Runtime's kernels (MLAS) dispatch on, on x86 and ARM. Other flags (virtualisation,
# security mitigations...) differ between otherwise identical machines and would only split the cache.
KERNEL_FLAGS = frozenset(
    {
        "sse4_1",
        "sse4_2",
        "avx",
        "avx2",
        "fma",
        "f16c",
        "avx512f",
        "avx512bw",
        "avx512vl",
        "avx512dq",
        "avx512_vnni",
        "avx512_bf16",
        "avx512_fp16",
        "avx_vnni",
        "avx_vnni_int8",
        "amx_tile",
        "amx_int8",
        "amx_bf16",
        "asimd",
        "asimddp",
        "asimdhp",
        "i8mm",
        "bf16",
        "sve",
        "sve2",
        "fphp",
    }
)


@dataclass(frozen=True, slots=True)
class CpuInfo:
    """The CPU as the encoder sees it: ``model`` (as the CPU reports it), ``machine``
    (x86_64, aarch64, arm64...) and the kernel-relevant ``features``, sorted."""

    model: str
    machine: str
    features: tuple[str, ...]

    @property
    def key(self) -> str:
        """A file-name-safe description of the feature set, e.g. ``x86_64-avx-avx2-f16c-fma``."""
        return "-".join((self.machine or "cpu", *self.features)).lower()


@lru_cache(maxsize=1)
def cpu_info() -> CpuInfo:
    """This machine's CPU (read once per process from /proc/cpuinfo where there is one)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    model, flags = platform.processor(), set()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name in ("model name", "cpu model") and value.strip():
            model = value.strip()
        elif name in ("flags", "features"):
            flags.update(value.split())
    return CpuInfo(model or "unknown", platform.machine(), tuple(sorted(flags & KERNEL_FLAGS)))
