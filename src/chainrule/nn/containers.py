"""Containers: modules in order (``Sequential``) or in a list (``ModuleList``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from chainrule.core.config import is_grad_enabled
from chainrule.nn.module import Module
from chainrule.nn.stateless import functional_call
from chainrule.transforms import checkpoint

__all__ = ["Sequential", "ModuleList"]


def _checked(owner: str, module: Any, index: Any) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{owner}: item {index!r} is a {type(module).__name__}, not a Module")
    return module


class Sequential(Module):
    """Modules applied one after another; ``Sequential(a, b)(x)`` is ``b(a(x))``.

    Submodules are named "0", "1", ... (or by the keys of one dict given),
    the names PyTorch gives them, so state_dicts match.

    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.ReLU())
    >>> net
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
    )
    >>> net(cr.zeros(4, 2, dtype="float32")).shape
    (4, 3)
    """

    def __init__(self, *modules: Module | Mapping[str, Module],
                 checkpoint_every: int | None = None) -> None:
        super().__init__()
        if checkpoint_every is not None and (isinstance(checkpoint_every, bool) or not
                                             isinstance(checkpoint_every, int)
                                             or checkpoint_every < 1):
            raise ValueError(f"Sequential: checkpoint_every must be a whole number >= 1 (the "
                             f"layers per recomputed segment) or None, got {checkpoint_every!r}")
        # each run of this many modules keeps only its input for the backward sweep and
        # is recomputed there (chainrule.transforms.checkpoint): memory for time
        object.__setattr__(self, "checkpoint_every", checkpoint_every)
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(str(name), _checked("Sequential", module, name))
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), _checked("Sequential", module, i))

    def forward(self, x: Any) -> Any:
        every = self.__dict__.get("checkpoint_every")
        if every and is_grad_enabled():
            return self._checkpointed(x, every)
        for module in self._modules.values():
            x = module(x)
        return x

    def _checkpointed(self, x: Any, every: int) -> Any:
        items = list(self._modules.items())
        for start in range(0, len(items), every):
            segment = items[start:start + every]
            params = {f"{name}.{key}": value for name, module in segment
                      for key, value in module.named_parameters()}
            x = checkpoint(_segment_runner(segment))(x, params)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        return items[_position("Sequential", index, len(items))][1]

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), _checked("Sequential.append", module, len(self)))
        return self


def _segment_runner(segment: list[tuple[str, Module]]) -> Any:
    """A function of (input, parameters by dotted name) running ``segment`` in order."""
    def run_segment(x: Any, params: dict) -> Any:
        for name, module in segment:
            prefix = name + "."
            own = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
            x = functional_call(module, own, (x,)) if own else module(x)
        return x
    return run_segment


def _position(owner: str, index: Any, n: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"{owner}: indices must be ints or slices, got {type(index).__name__}")
    if not -n <= index < n:
        raise IndexError(f"{owner}: index {index} is out of range for {n} module(s)")
    return index % n


class ModuleList(Module):
    """A list of modules whose parameters the parent module sees (a plain Python list
    would hide them). It has no ``forward``: iterate over it in yours.

    >>> import chainrule as cr
    >>> layers = cr.nn.ModuleList([cr.nn.Linear(2, 2) for _ in range(3)])
    >>> len(layers), len(list(layers.parameters()))
    (3, 6)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _renumber(self, modules: list[Module]) -> None:
        for name in list(self._modules):
            delattr(self, name)
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_position("ModuleList", index, len(modules))]

    def __setitem__(self, index: int, module: Module) -> None:
        i = _position("ModuleList", index, len(self))
        self.add_module(str(i), _checked("ModuleList", module, index))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_position("ModuleList", index, len(modules))]
        self._renumber(modules)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), _checked("ModuleList.append", module, len(self)))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, _checked("ModuleList.insert", module, index))
        self._renumber(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: iterate over it in your "
                                  "module's forward")
