"""Training on several processes or machines with PyTorch's own engine (DistributedDataParallel).

``torchrun --nproc_per_node=N -m atelier <capability> train ...`` starts N copies of the
command; each finds its rank in the environment torchrun sets (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``...). :func:`context` joins them into one process group
(NCCL on CUDA GPUs, gloo on CPUs). Without torchrun, everything here is a no-op and the
single-process path is exactly the plain one.

How a batch is shared: every rank draws the same shuffled order of the data for an epoch
(:class:`torch.utils.data.DistributedSampler`, ``set_epoch`` each epoch) and takes its own
interleaved share, so ``N`` ranks with a batch of ``B / N`` each see exactly the items one
process with a batch of ``B`` would see, and DDP averages their gradients: the same update.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn


@dataclass(frozen=True)
class Context:
    """This process's place among the training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process (rank 0) writes files and prints."""
        return self.rank == 0


_CONTEXT: Context | None = None


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def context() -> Context:
    """The process group this process belongs to, joined on first call (once per process)."""
    global _CONTEXT
    if _CONTEXT is not None:
        return _CONTEXT
    cuda = torch.cuda.is_available()
    if not launched_by_torchrun():
        _CONTEXT = Context(device=torch.device("cuda" if cuda else "cpu"))
        return _CONTEXT
    import torch.distributed as dist

    rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
        # Leave the group before the interpreter tears down: a gloo group still alive at exit
        # can abort the process ("terminate called without an active exception"), seen under load.
        atexit.register(_leave)
    _CONTEXT = Context(rank, world, local, torch.device(f"cuda:{local}" if cuda else "cpu"))
    return _CONTEXT


def _leave() -> None:
    import torch.distributed as dist

    if not dist.is_initialized():
        return
    try:
        # All ranks leave together: a rank that tears its connections down while another is
        # still finishing (rank 0 writes the last files) can abort that one at exit.
        dist.barrier()
    finally:
        dist.destroy_process_group()


def wrap(model: nn.Module, ctx: Context) -> nn.Module:
    """The model wrapped in DistributedDataParallel when several processes train (else itself)."""
    if not ctx.distributed or not any(p.requires_grad for p in model.parameters()):
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [ctx.local_rank] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside a DDP wrapper: what checkpoints hold, whatever the world size."""
    return getattr(model, "module", model)


def local_batch(global_batch: int, ctx: Context) -> int:
    """This rank's share of ``global_batch`` (which must divide evenly)."""
    if global_batch % ctx.world_size:
        from atelier.errors import InputError

        raise InputError(f"--batch {global_batch} does not split evenly over {ctx.world_size} processes")
    return global_batch // ctx.world_size


def all_mean(value: float, ctx: Context) -> float:
    """The mean of a number over all ranks (for logging the same loss everywhere)."""
    if not ctx.distributed:
        return value
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.float64, device=ctx.device if ctx.device.type == "cuda" else "cpu")
    dist.all_reduce(tensor)
    return float(tensor.item()) / ctx.world_size


def any_rank(flag: bool, ctx: Context) -> bool:
    """True on every rank when ``flag`` is true on any rank (so that all ranks stop together)."""
    if not ctx.distributed:
        return flag
    import torch.distributed as dist

    tensor = torch.tensor([int(flag)], device=ctx.device if ctx.device.type == "cuda" else "cpu")
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        import torch.distributed as dist

        dist.barrier()


class EpochBatches:
    """Batches of dataset indices for one rank, step by step, resumable from any step.

    Each epoch is a fresh shuffle (``DistributedSampler`` with ``set_epoch``); ranks take
    interleaved shares, and epochs end before an incomplete global batch, so step ``s``
    covers the same items on any number of ranks. ``batch(step)`` needs no state: resuming
    at step ``s`` (on any number of processes) continues the same sequence.
    """

    def __init__(self, size: int, global_batch: int, ctx: Context, seed: int = 0) -> None:
        from torch.utils.data import DistributedSampler

        if size < 1:
            raise ValueError("an empty dataset has no batches")
        self.size, self.global_batch, self.ctx = size, global_batch, ctx
        self.local = local_batch(global_batch, ctx)
        # Smaller than one batch: repeat the data so that a batch can be filled.
        repeat = -(-global_batch // size) if size < global_batch else 1
        self.per_epoch = size * repeat // global_batch
        self.sampler = DistributedSampler(
            range(size * repeat), num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=seed, drop_last=False
        )
        self._epoch: int | None = None
        self._order: list[int] = []

    def epoch_of(self, step: int) -> int:
        return step // self.per_epoch

    def batch(self, step: int) -> list[int]:
        """Dataset indices for this rank at ``step`` (0-based)."""
        epoch, index = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self.sampler.set_epoch(epoch)
            self._order = list(iter(self.sampler))
            self._epoch = epoch
        start = index * self.local
        return [i % self.size for i in self._order[start : start + self.local]]

    def __iter__(self) -> Iterator[list[int]]:
        step = 0
        while True:
            yield self.batch(step)
            step += 1
