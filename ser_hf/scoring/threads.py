"""The thread count of inference, chosen deliberately.

On a busy machine torch's default (one thread per core) makes small models wait on each other's threads: one
default-model streaming update took 1,155 ms with the default on a loaded 2-core machine and 24 ms with one
thread. Inference therefore runs on :data:`DEFAULT_THREADS` threads unless told otherwise (``threads=``,
``--threads``; ``0`` keeps torch's own setting). Measured in ``docs/reports/threads.md``.
"""

from __future__ import annotations

from contextlib import contextmanager

DEFAULT_THREADS = 1


@contextmanager
def inference_threads(threads: int | None):
    """Run the block with torch on ``threads`` intra-op threads (``None`` or ``0``: leave torch's setting)."""
    if not threads:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    if previous != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if previous != threads:
            torch.set_num_threads(previous)
