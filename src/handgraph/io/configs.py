"""Nested dataclass configs: overriding fields from YAML mappings or ``key=value`` strings, with errors that
name the key. Presets are plain dataclass instances; overrides never mutate them."""

from __future__ import annotations

import dataclasses
import types
import typing

import yaml

from handgraph.errors import HandgraphError


def override(config, values: dict, where: str = ""):
    """A copy of the dataclass ``config`` with ``values`` applied; nested mappings update nested dataclasses."""
    if not isinstance(values, dict):
        raise HandgraphError(f"config{where}: expected a mapping of fields, got {type(values).__name__}")
    fields = {field.name: field for field in dataclasses.fields(config)}
    hints = typing.get_type_hints(type(config))
    changes = {}
    for key, value in values.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in fields:
            raise HandgraphError(f"config: unknown key {path!r}; known here: {', '.join(fields)}")
        current = getattr(config, key)
        if dataclasses.is_dataclass(current):
            changes[key] = override(current, value, path)
        else:
            changes[key] = _coerce(value, hints[key], path)
    try:
        return dataclasses.replace(config, **changes)
    except (TypeError, ValueError) as error:
        raise HandgraphError(f"config{' ' + where if where else ''}: {error}") from None


def _coerce(value, hint, path: str):
    """YAML gives lists where configs hold tuples, ints where they hold floats, and strings for exponents
    without a dot (YAML 1.1 reads ``1e-3`` as text); check the rest."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in arguments:
            return None
        hint = next(argument for argument in arguments if argument is not type(None))
        origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and isinstance(value, list | tuple):
        return tuple(_coerce(item, arguments[0], path) for item in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    expected = origin or hint
    if expected in (int, float) and isinstance(value, bool):  # YAML's and JSON's true is no number
        raise HandgraphError(f"config: {path} must be {expected.__name__}, got {value!r}")
    if isinstance(expected, type) and not isinstance(value, expected):
        raise HandgraphError(f"config: {path} must be {expected.__name__}, got {value!r}")
    return value


def parse_assignments(assignments: list[str]) -> dict:
    """``["model.width=48", "steps=100"]`` -> {"model": {"width": 48}, "steps": 100}; values are YAML."""
    nested: dict = {}
    for assignment in assignments:
        key, separator, text = assignment.partition("=")
        if not separator or not key:
            raise HandgraphError(f"--set {assignment!r}: expected KEY=VALUE, e.g. model.width=48")
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError as error:
            raise HandgraphError(f"--set {assignment!r}: the value is not valid YAML ({error})") from None
        target = nested
        parts = key.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return nested


def to_dict(config) -> dict:
    """A dataclass config as plain JSON-ready data."""
    return dataclasses.asdict(config)
