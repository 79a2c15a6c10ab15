"""Module: a callable holding parameters, buffers and submodules, found by attribute.

Assigning a submodule or a parameter to an attribute registers it, as in
PyTorch, so ``parameters()``, ``state_dict()`` and ``train()`` reach the
whole tree without any bookkeeping in the layer. The registered values also
live in the instance's ``__dict__``, so reading ``self.weight`` in
``forward`` is a plain attribute lookup.

A parameter is a plain :class:`~chainrule.Tensor` (the engine's hot path
checks ``type(a) is Tensor``, so there is no subclass): ``Parameter(data)``
makes a leaf tensor with ``requires_grad=True`` and remembers it as a
parameter. Any leaf tensor that requires grad, assigned to an attribute,
counts as a parameter too; buffers (running statistics) are registered with
``register_buffer``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from chainrule.backend import xp
from chainrule.tensor import Tensor, changing

__all__ = ["Module", "Parameter", "IncompatibleKeys"]

_made_by_parameter: weakref.WeakValueDictionary[int, Tensor] = weakref.WeakValueDictionary()


def is_parameter(value: Any) -> bool:
    """Whether ``value`` registers as a parameter: made by ``Parameter`` or a leaf
    tensor that requires grad (by identity, never by ``==``, which is elementwise)."""
    if type(value) is not Tensor:
        return False
    return (value.requires_grad and value._node is None) or \
        _made_by_parameter.get(id(value)) is value


class _ParameterType(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return is_parameter(obj)


class Parameter(metaclass=_ParameterType):
    """A trainable tensor: ``Parameter(data)`` returns a leaf :class:`Tensor` holding
    a copy of ``data`` with ``requires_grad=True`` (it is a Tensor, not a subclass).

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter([1.0, 2.0])
    >>> type(w).__name__, w.requires_grad, isinstance(w, cr.nn.Parameter)
    ('Tensor', True, True)
    """

    def __new__(cls, data: Any, requires_grad: bool = True, dtype: Any = None) -> Tensor:  # type: ignore[misc]
        if isinstance(data, Tensor):
            data = data.data
        t = Tensor(data, dtype=dtype)
        if requires_grad:
            t.requires_grad_(True)
        _made_by_parameter[id(t)] = t
        return t


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _float_dtype(dtype: Any, where: str) -> Any:
    try:
        dt = xp.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: {dtype!r} is not a dtype") from None
    if dt.kind != "f":
        raise TypeError(f"{where}: parameters must be floating, got dtype {dt}")
    return dt


class Module:
    """Base class of every layer and model: subclass it, assign layers and parameters
    in ``__init__`` (after ``super().__init__()``), compute in ``forward``.

    >>> import chainrule as cr
    >>> class Affine(cr.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = cr.nn.Parameter([2.0])
    ...         self.inner = cr.nn.Linear(1, 1)
    ...     def forward(self, x):
    ...         return self.inner(x) * self.scale
    >>> [name for name, _ in Affine().named_parameters()]
    ['scale', 'inner.weight', 'inner.bias']
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward method")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        hooks = self.__dict__.get("_hooks")  # absent until a hook is registered
        if not hooks:
            return self.forward(*args, **kwargs)
        for kind, fn in list(hooks):
            if kind == "pre":
                new = fn(self, args)
                if new is not None:
                    args = new if isinstance(new, tuple) else (new,)
        out = self.forward(*args, **kwargs)
        for kind, fn in list(hooks):
            if kind == "post":
                new = fn(self, args, out)
                if new is not None:
                    out = new
        return out

    def register_forward_hook(self, hook: Callable[..., Any]) -> HookHandle:
        """Call ``hook(module, args, output)`` after each forward; an output it
        returns replaces the module's. ``.remove()`` on the handle undoes it."""
        return self._add_hook("post", hook)

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> HookHandle:
        """Call ``hook(module, args)`` before each forward; a value it returns
        (a tuple, or one argument) replaces the positional arguments."""
        return self._add_hook("pre", hook)

    def _add_hook(self, kind: str, hook: Callable[..., Any]) -> HookHandle:
        if not callable(hook):
            raise TypeError(f"register_forward_{'pre_' if kind == 'pre' else ''}hook: "
                            f"expected a function, got {type(hook).__name__}")
        hooks = self.__dict__.get("_hooks")
        if hooks is None:
            hooks = []
            object.__setattr__(self, "_hooks", hooks)
        entry = (kind, hook)
        hooks.append(entry)
        return HookHandle(hooks, entry)

    # ----- registration -----
    def __setattr__(self, name: str, value: Any) -> None:
        registries = self.__dict__.get("_parameters")
        if registries is None:
            if isinstance(value, (Module, Tensor)):
                raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                     f"assigning {name!r}")
            object.__setattr__(self, name, value)
            return
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Module):
            self._forget(name, keep=modules)
            modules[name] = value  # a replaced entry keeps its place, as in PyTorch
        elif is_parameter(value):
            self._forget(name, keep=params)
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} "
                                f"to parameter {name!r}: give a leaf tensor that requires "
                                f"grad (nn.Parameter) or None")
            params[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} "
                                f"to buffer {name!r}: give a tensor or None")
            buffers[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {type(value).__name__} "
                                f"to submodule {name!r}: give a Module or None")
            modules[name] = None
        object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict | None = None) -> None:
        """Drop ``name`` from every registry but ``keep``."""
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent.discard(name)

    def __delattr__(self, name: str) -> None:
        if "_parameters" in self.__dict__:
            self._forget(name)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Tensor | None) -> None:
        """Register ``param`` (a leaf tensor that requires grad, or None) as ``name``."""
        if param is not None and not is_parameter(param):
            raise TypeError(f"{type(self).__name__}.register_parameter: {name!r} must be a "
                            f"leaf tensor that requires grad (nn.Parameter) or None")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register state that is not trained (running statistics): it is saved in
        ``state_dict`` (unless not ``persistent``) and converted by ``to``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the submodule ``name`` (for names that are not identifiers)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {name!r} must be a Module, "
                            f"got {type(module).__name__}")
        self._forget(name, keep=self._modules)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # ----- traversal -----
    def named_modules(self, prefix: str = "", memo: set | None = None
                      ) -> Iterator[tuple[str, Module]]:
        """This module and every submodule below it, once each, with dotted names."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named(self, registry: str, prefix: str, recurse: bool
               ) -> Iterator[tuple[str, Tensor]]:
        seen = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))  # a shared (tied) tensor is listed once
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, parameter) for every parameter, shared ones once."""
        return self._named("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every parameter, shared ones once: what an optimizer updates."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        return self._named("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule, then on this module (custom initialization)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----- modes and gradients -----
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout drops, batch norm uses batch statistics) or not."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (or set it to zeros)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._wrap(xp.zeros_like(p.data), None)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ----- dtype -----
    def to(self, dtype: Any) -> Module:
        """Convert every floating parameter and buffer (and gradient) to ``dtype``, in place:
        the tensors stay the same objects, so an optimizer built before still holds them."""
        dt = _float_dtype(dtype, f"{type(self).__name__}.to")
        for t in [*self.parameters(), *self.buffers()]:
            if t.data.dtype.kind == "f" and t.data.dtype != dt:
                t.data = t.data.astype(dt)
                if t.grad is not None:
                    t.grad = Tensor._wrap(xp.asarray(t.grad.data, dtype=dt), None)
        return self

    def float(self) -> Module:
        """Parameters and buffers as float32."""
        return self.to(xp.float32)

    def double(self) -> Module:
        """Parameters and buffers as float64."""
        return self.to(xp.float64)

    # ----- state -----
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, as PyTorch orders them
        (a module's own parameters, then its buffers, then its submodules'). The
        tensors share memory with the model (detached unless ``keep_vars``)."""
        state: dict[str, Tensor] = {}
        for module_prefix, module in self.named_modules(prefix):
            dot = f"{module_prefix}." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    state[dot + name] = p if keep_vars else Tensor._wrap(p.data, None)
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    state[dot + name] = b if keep_vars else Tensor._wrap(b.data, None)
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy values into the parameters and buffers (cast to their dtypes).

        Every entry is checked first: with ``strict`` a missing or unexpected
        name fails, and a wrong shape always does, in one error listing every
        problem; only if all is well is anything copied, so a failed load
        leaves the model as it was.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{where}: expected a mapping name -> array, "
                            f"got {type(state_dict).__name__}")
        targets = self.state_dict(keep_vars=True)
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems, updates = [], []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        for name, target in targets.items():
            if name not in state_dict:
                continue
            value = _as_array(state_dict[name])
            if value is None:
                problems.append(f"{name!r} is a {type(state_dict[name]).__name__}, "
                                f"not an array of numbers")
            elif value.shape != target.shape:
                problems.append(f"{name!r} has shape {value.shape}, the model's is "
                                f"{target.shape}")
            else:
                updates.append((target, value))
        if problems:
            raise ValueError(f"{where}: nothing was loaded: " + "; ".join(problems))
        for target, value in updates:
            with changing(target) as data:  # in place, marked as a change
                xp.copyto(data, value, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # ----- printing -----
    def extra_repr(self) -> str:
        """The layer's settings, shown between the parentheses of its repr."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines += extra.split("\n")
        for name, module in self._modules.items():
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def describe(self) -> str:
        """The one-line name used in error messages, e.g. ``Linear(in_features=2, ...)``."""
        return f"{type(self).__name__}({self.extra_repr()})"


class HookHandle:
    """What ``register_forward_hook`` returns: ``remove()`` takes the hook away."""

    def __init__(self, hooks: list, entry: tuple) -> None:
        self._hooks, self._entry = hooks, entry

    def remove(self) -> None:
        if self._entry in self._hooks:
            self._hooks.remove(self._entry)


def _as_array(value: Any) -> Any:
    """A state-dict entry as a real numeric array, or None if it is not one."""
    while isinstance(value, Tensor):
        value = value.data
    try:
        array = xp.asarray(value)
    except Exception:  # e.g. a torch tensor that requires grad refuses __array__
        return None
    return array if array.dtype.kind in "biuf" else None
