"""Settings that are declared once: default, help text, range and choices of every option.

A capability's settings are a dataclass whose fields are made with :func:`option`. From
that one declaration come

* validation (:func:`check`): ranges, choices, NaN and infinities, one line per mistake;
* the command line's options (:func:`cli_options`, used by ``atelier.cli``), so the CLI
  re-declares no default and no range;
* the studio's request models (:func:`api_model`), with the same defaults and bounds.

No PyTorch here: ``atelier --help`` must stay instant.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Callable, Sequence

from atelier.errors import InputError


@dataclass(frozen=True)
class Spec:
    """What the user is told about one option, and what values it accepts."""

    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    unit: str = ""
    flag: str | None = None
    """The command line's name, when not ``--field-name``."""
    short: str | None = None
    cli: bool = True
    """Offered on the command line (internal tuning knobs are not)."""


def option(default: Any = MISSING, help: str = "", *, default_factory: Any = MISSING, **spec: Any) -> Any:
    """A dataclass field with a :class:`Spec` (``low``/``high`` bounds, ``choices``, ``flag``...)."""
    metadata = {"spec": Spec(help, **spec)}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def spec_of(f: dataclasses.Field) -> Spec | None:
    return f.metadata.get("spec")


def flag_of(f: dataclasses.Field) -> str:
    spec = spec_of(f)
    return spec.flag if spec and spec.flag else "--" + f.name.replace("_", "-")


def _check_value(name: str, value: Any, spec: Spec) -> None:
    if value is None:
        return
    if spec.choices is not None and value not in spec.choices:
        shown = ", ".join(str(c) for c in spec.choices if c is not None)
        raise InputError(f"{name} must be one of {shown}, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value}")
    low, high = spec.low, spec.high
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            bounds = f"between {low:g} and {high:g}{spec.unit}"
        else:
            bounds = f"at least {low:g}{spec.unit}" if low is not None else f"at most {high:g}{spec.unit}"
        raise InputError(f"{name} must be {bounds}, got {value:g}")


def check(settings: Any) -> None:
    """Check every field of ``settings`` against its :class:`Spec`; one :class:`InputError` line."""
    for f in fields(settings):
        spec = spec_of(f)
        if spec is not None:
            value = getattr(settings, f.name)
            values = value if isinstance(value, (list, tuple)) and spec.choices is None else [value]
            for item in values:
                _check_value(flag_of(f), item, spec)


def from_dict(cls: type, data: dict, **overrides: Any) -> Any:
    """An instance of the settings class ``cls`` from plain values, ignoring unknown keys
    (settings recorded by an older or newer version) and turning lists back into tuples."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in fields(cls):
        if f.name in data:
            value = data[f.name]
            if isinstance(value, list) and "tuple" in str(hints.get(f.name, "")):
                value = tuple(value)
            values[f.name] = value
    return cls(**{**values, **overrides})


# -- the command line ------------------------------------------------------------------------


def _cli_type(annotation: Any) -> Any:
    """The type Typer should parse: ``int | None`` -> ``Optional[int]``, tuples as text."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
        return typing.Optional[_cli_type(args[0])]
    if annotation in (int, float, str, bool):
        return annotation
    return str


def cli_options(cls: type, *, exclude: Sequence[str] = (), into: str = "settings", defaults: dict[str, Any] | None = None) -> Callable:
    """Decorate a Typer command so that every CLI field of ``cls`` becomes one of its options.

    The command receives the settings as one argument, ``into`` (an instance of ``cls``),
    and ``explicit``: the names of the options the user actually typed (so that, say, a
    resumed run keeps its own settings except those). ``defaults`` overrides a default
    shown on the command line only where the command's meaning differs (documented there).
    """
    import typer

    hints = typing.get_type_hints(cls)
    chosen = [f for f in fields(cls) if spec_of(f) is not None and spec_of(f).cli and f.name not in exclude]
    defaults = defaults or {}

    def decorate(command: Callable) -> Callable:
        own = [p for p in inspect.signature(command).parameters.values() if p.name not in (into, "explicit")]
        generated = []
        for f in chosen:
            spec = spec_of(f)
            default = defaults.get(f.name, f.default if f.default is not MISSING else f.default_factory())
            if isinstance(default, tuple):
                default = ",".join(str(v) for v in default)
            help_text = spec.help + (f" One of: {', '.join(str(c) for c in spec.choices if c is not None)}." if spec.choices else "")
            names = [flag_of(f)] + ([spec.short] if spec.short else [])
            kwargs: dict[str, Any] = {"help": help_text}
            annotation = _cli_type(hints[f.name])
            if annotation is bool or annotation == typing.Optional[bool]:
                names = [f"{flag_of(f)}/--no-{flag_of(f)[2:]}"]
            generated.append(
                inspect.Parameter(
                    f.name, inspect.Parameter.KEYWORD_ONLY, default=typer.Option(default, *names, **kwargs), annotation=annotation
                )
            )

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            ctx = kwargs.pop("_typer_context")
            values = {f.name: kwargs.pop(f.name) for f in chosen}
            for f in chosen:
                if isinstance(f.default, tuple) and isinstance(values[f.name], str):
                    values[f.name] = _parse_tuple(flag_of(f), values[f.name], type(f.default[0]) if f.default else float)
            explicit = {name for name in values if getattr(ctx.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT"}
            settings = cls(**values)
            extra = {"explicit": explicit} if "explicit" in inspect.signature(command).parameters else {}
            return command(**kwargs, **{into: settings}, **extra)

        context = inspect.Parameter("_typer_context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
        wrapper.__signature__ = inspect.Signature([*own, *generated, context])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *generated, context] if p.annotation is not inspect.Parameter.empty}
        return wrapper

    return decorate


def _parse_tuple(name: str, text: str, kind: type) -> tuple:
    try:
        return tuple(kind(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError(f"{name}: {text!r} is not a comma-separated list of numbers") from None


# -- the studio ------------------------------------------------------------------------------


def api_model(cls: type, name: str, *, include: Sequence[str] | None = None, extra: dict[str, tuple[Any, Any]] | None = None) -> type:
    """A pydantic model for the studio's JSON bodies with the fields (defaults, bounds, help)
    of the settings class ``cls``; NaN and infinities are refused."""
    from pydantic import ConfigDict, Field, create_model

    hints = typing.get_type_hints(cls)
    definitions: dict[str, Any] = {}
    for f in fields(cls):
        spec = spec_of(f)
        if spec is None or (include is not None and f.name not in include):
            continue
        default = f.default if f.default is not MISSING else f.default_factory()
        constraints: dict[str, Any] = {"description": spec.help}
        if spec.low is not None:
            constraints["ge"] = spec.low
        if spec.high is not None:
            constraints["le"] = spec.high
        annotation = hints[f.name]
        if spec.choices is not None:
            annotation = typing.Literal[tuple(spec.choices)]  # type: ignore[misc]
        definitions[f.name] = (annotation, Field(default, **constraints))
    definitions.update(extra or {})
    return create_model(name, __config__=ConfigDict(allow_inf_nan=False, extra="forbid"), **definitions)
