"""Where torch work runs (``--device``) and in which floating-point precision encoders compute (``--precision``).

Both are typed once, at the command line's edge, and passed down. `Device.parse` reads the option (syntax only,
torch is not imported); `Device.resolve` checks that the device exists on this machine (one FeatbenchError line
otherwise) and turns ``auto`` into cuda, then mps, else cpu; `Device.for_worker` picks worker i's GPU: a ``cuda``
without an index is ``cuda:(i mod n)`` on a machine with n GPUs, so that several worker processes share the GPUs
(one model per worker process on its GPU). Models and tensors move through one helper, `place`, and come back as
float32 numpy arrays through `to_numpy`; on the CPU in float32 both are no-ops, so CPU results stay bit for bit
what they were.

>>> Device.parse("cuda:3"), str(Device.parse(" MPS "))
(Device(kind=<DeviceKind.CUDA: 'cuda'>, index=3), 'mps')
>>> Device.parse("cpu").resolve() == CPU, Device.parse("auto").resolve(torch_needed=False) == CPU
(True, True)
>>> Device.parse("gpu")
Traceback (most recent call last):
featbench.errors.FeatbenchError: --device 'gpu': choose auto, cpu, cuda, cuda:N or mps
>>> Precision.parse("bf16"), Precision.parse("float32").is_default
(<Precision.BFLOAT16: 'bfloat16'>, True)
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from featbench.errors import FeatbenchError
from featbench.options import is_whole

DEVICE_HELP = "Torch work on: auto (a GPU if any), cpu, cuda, cuda:N, mps (docs/gpu.md)."
PRECISION_HELP = "Neural encoders compute in float32, float16 or bfloat16 (recorded in the store; docs/gpu.md)."


class DeviceKind(str, Enum):
    """What ``--device`` names.

    - AUTO: a CUDA GPU if there is one, else Apple's MPS, else the CPU (decided by `Device.resolve`)
    - CPU: the CPU (featbench's reference results)
    - CUDA: an NVIDIA GPU (``cuda:N`` names one; ``cuda`` lets each worker take its own, `Device.for_worker`)
    - MPS: Apple's Metal GPU
    """

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"
    MPS = "mps"


@dataclass(frozen=True)
class Device:
    """A device choice: its kind and, for CUDA, the GPU number (None: each worker picks, see `for_worker`)."""

    kind: DeviceKind = DeviceKind.CPU
    index: int | None = None

    @classmethod
    def parse(cls, text, option: str = "--device") -> Device:
        """The device named by `text` (auto, cpu, cuda, cuda:N, mps; any case); one FeatbenchError line otherwise."""
        if isinstance(text, Device):
            return text
        value = str(text).strip().lower()
        kind, _, number = value.partition(":")
        try:
            choice = DeviceKind(kind)
        except ValueError:
            choice = None
        if choice is None or (number and (choice is not DeviceKind.CUDA or not is_whole(number))) or value.endswith(":"):
            raise FeatbenchError(f"{option} {str(text).strip()!r}: choose auto, cpu, cuda, cuda:N or mps")
        return cls(choice, int(number) if number else None)

    def __str__(self) -> str:
        return self.kind.value + (f":{self.index}" if self.index is not None else "")

    @property
    def is_gpu(self) -> bool:
        return self.kind in (DeviceKind.CUDA, DeviceKind.MPS)

    def resolve(self, option: str = "--device", torch_needed: bool = True) -> Device:
        """This device checked on this machine, before any clip: `auto` becomes cuda, mps or cpu (cpu without
        importing torch when the run needs no torch, `torch_needed` False); a device that is not here is one
        FeatbenchError line.

        >>> import torch
        >>> if not torch.cuda.is_available():
        ...     Device.parse("cuda:1").resolve()
        Traceback (most recent call last):
        featbench.errors.FeatbenchError: --device cuda:1: no CUDA device (torch.cuda.is_available() is False)
        """
        if self.kind is DeviceKind.CPU or (self.kind is DeviceKind.AUTO and not torch_needed):
            return CPU
        import torch

        cuda, mps = torch.cuda.is_available(), _mps_available(torch)
        if self.kind is DeviceKind.AUTO:
            return Device(DeviceKind.CUDA) if cuda else Device(DeviceKind.MPS) if mps else CPU
        if self.kind is DeviceKind.MPS and not mps:
            raise FeatbenchError(f"{option} {self}: no MPS device (torch.backends.mps.is_available() is False)")
        if self.kind is DeviceKind.CUDA:
            if not cuda:
                raise FeatbenchError(f"{option} {self}: no CUDA device (torch.cuda.is_available() is False)")
            count = torch.cuda.device_count()
            if self.index is not None and self.index >= count:
                raise FeatbenchError(f"{option} {self}: this machine has {count} CUDA device{'s' * (count != 1)} "
                                     f"(cuda:0 to cuda:{count - 1})")
        return self

    def for_worker(self, worker: int) -> Device:
        """The device worker number `worker` (0, 1, ...) uses: ``cuda`` without an index is ``cuda:(worker mod n)``
        over the n GPUs this process sees; any other device is itself (`auto` resolved first).

        >>> CPU.for_worker(3), Device(DeviceKind.CUDA, 1).for_worker(3)
        (Device(kind=<DeviceKind.CPU: 'cpu'>, index=None), Device(kind=<DeviceKind.CUDA: 'cuda'>, index=1))
        """
        device = self.resolve() if self.kind is DeviceKind.AUTO else self
        if device.kind is not DeviceKind.CUDA or device.index is not None:
            return device
        import torch

        return Device(DeviceKind.CUDA, worker % max(torch.cuda.device_count(), 1))

    def activate(self) -> Device:
        """Make this device the process's own, as a worker starts (before its models are built): a CUDA GPU becomes
        torch's current device, with TF32 off, so that float32 on a GPU is float32 (cuDNN convolutions would
        otherwise round their inputs to 10 bits); the CPU changes nothing. Returns the device.

        >>> CPU.activate()
        Device(kind=<DeviceKind.CPU: 'cpu'>, index=None)
        """
        if self.kind is DeviceKind.CUDA:
            import torch

            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            torch.cuda.set_device(self.torch)
        return self

    @property
    def torch(self):
        """The `torch.device` (a resolved device only: `auto` has none)."""
        import torch

        if self.kind is DeviceKind.AUTO:
            raise ValueError("resolve an 'auto' device before using it")
        return torch.device(str(self))

    def resources(self) -> dict | None:
        """What a task on this device asks a cluster's worker for: {"GPU": 1} for CUDA (workers that offer a GPU
        resource, see `featbench.executors.Executor.check_device`), else nothing.

        >>> Device(DeviceKind.CUDA).resources(), CPU.resources()
        ({'GPU': 1}, None)
        """
        return {"GPU": 1} if self.kind is DeviceKind.CUDA else None


CPU = Device(DeviceKind.CPU)
AUTO = Device(DeviceKind.AUTO)


def _mps_available(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


class Precision(str, Enum):
    """The floating-point type a neural encoder computes in (its stored features are float32 whatever it is).

    - FLOAT32: the reference (the default; stores made before this option have it)
    - FLOAT16: half precision, for GPUs (about 3 significant digits; torch runs it slowly, if at all, on CPUs)
    - BFLOAT16: brain float, float32's range with about 2-3 significant digits (GPUs, and CPUs)
    """

    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"

    @classmethod
    def parse(cls, text, option: str = "--precision") -> Precision:
        """The precision named by `text` (also fp32, fp16, half, bf16); one FeatbenchError line otherwise."""
        if isinstance(text, Precision):
            return text
        value = _PRECISION_ALIASES.get(str(text).strip().lower(), str(text).strip().lower())
        try:
            return cls(value)
        except ValueError:
            joined = " " if option.startswith("-") else "="  # --precision 'x', whisper.precision='x'
            raise FeatbenchError(f"{option}{joined}{str(text).strip()!r}: choose float32, float16 or bfloat16") from None

    @property
    def is_default(self) -> bool:
        return self is Precision.FLOAT32

    @property
    def torch(self):
        """The torch dtype."""
        import torch

        return getattr(torch, self.value)


_PRECISION_ALIASES = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16"}


def place(obj, device: Device = CPU, precision: Precision | None = None):
    """`obj` (a torch module or tensor) on `device`, its floating-point values in `precision` (None or float32, the
    default: as they are; models load in float32). A tensor that is already there is returned itself, so the CPU
    float32 path costs nothing and changes nothing.

    >>> import torch
    >>> x = torch.ones(2)
    >>> place(x) is x, place(x, CPU, Precision.BFLOAT16).dtype
    (True, torch.bfloat16)
    """
    import torch

    dtype = precision.torch if precision is not None and not precision.is_default else None
    if isinstance(obj, torch.Tensor) and not obj.is_floating_point():
        dtype = None  # masks and indices keep their type
    return obj.to(device.torch) if dtype is None else obj.to(device.torch, dtype)


def place_like(tensor, module):
    """`tensor` moved to where `module`'s parameters are, floating-point values in their dtype (inputs follow
    the model).

    >>> import torch
    >>> place_like(torch.ones(1, dtype=torch.float64), torch.nn.Linear(1, 1)).dtype
    torch.float32
    """
    parameter = next(module.parameters())
    if tensor.is_floating_point():
        return tensor.to(parameter.device, parameter.dtype)
    return tensor.to(parameter.device)


def to_numpy(tensor) -> np.ndarray:
    """A tensor from any device and floating-point type as a float32 numpy array on the CPU (a CPU float32 tensor's
    own memory, as ``tensor.numpy()`` gives it).

    >>> import torch
    >>> to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype
    dtype('float32')
    """
    import torch

    return tensor.detach().to("cpu", torch.float32).numpy()
