"""Strict reading of settings from an environment, shared by every package's settings module.

Each package reads its variables in one place (its ``settings.py``) through an
:class:`EnvReader`. A value that cannot be used stops start-up with one line naming the
variable, the value and what is allowed (:class:`SettingsError`); nothing is silently read as a
default. The reader also records what it read and where each value came from, which
``inference config`` prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference_core.errors import SettingsError

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
FROM_ENVIRONMENT, FROM_ENV_FILE, FROM_DEFAULT = "environment", "env file", "default"
#: Entry-point group where an installed package declares its settings: a callable taking an
#: EnvReader and reading every variable the package uses (`read_settings(env)`).
SETTINGS_GROUP = "visionhost.settings"


@dataclass(frozen=True)
class SettingRecord:
    """One variable as read: its effective value, shown as text, and where it came from."""

    name: str
    value: str
    origin: str


class EnvReader:
    """Reads typed values from an environment mapping, refusing anything it cannot use."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, env_file: Mapping[str, str] | None = None
    ) -> None:
        """`environ` (the process environment by default), overridden by an env file's values."""
        base = os.environ if environ is None else environ
        self.env_file: Mapping[str, str] = env_file or {}
        self.environ: Mapping[str, str] = {**base, **self.env_file} if self.env_file else base
        self.records: dict[str, SettingRecord] = {}

    # -- typed readers -------------------------------------------------------------------------

    def text(self, name: str, default: str | None, *, aliases: tuple[str, ...] = (), secret: bool = False) -> Any:
        """The stripped text of the first of `name` and `aliases` that is set and not empty."""
        for candidate in (name, *aliases):
            raw = self._raw(candidate)
            if raw is not None:
                return self._record(name, raw, _hidden(raw) if secret else raw, origin=self._origin_of(candidate))
        return self._default(name, default, _hidden(default) if secret and default else default)

    def integer(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        raw = self._raw(name)
        if raw is None:
            return self._default(name, default)
        allowed = _range_words("a whole number", minimum, maximum)
        try:
            value = int(raw)
        except ValueError:
            raise self.error(name, raw, allowed) from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise self.error(name, raw, allowed)
        return self._record(name, value)

    def number(self, name: str, default: float, *, minimum: float | None = None) -> float:
        raw = self._raw(name)
        if raw is None:
            return self._default(name, default)
        allowed = _range_words("a number", minimum, None)
        try:
            value = float(raw)
        except ValueError:
            raise self.error(name, raw, allowed) from None
        if value != value or value in (float("inf"), float("-inf")) or (minimum is not None and value < minimum):
            raise self.error(name, raw, allowed)
        return self._record(name, value)

    def flag(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return self._default(name, default)
        word = raw.lower()
        if word in TRUE_WORDS:
            return self._record(name, True, "true")
        if word in FALSE_WORDS:
            return self._record(name, False, "false")
        raise self.error(name, raw, "one of " + ", ".join(TRUE_WORDS + FALSE_WORDS))

    def choice(self, name: str, default: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
        raw = self._raw(name)
        if raw is None:
            return self._default(name, default)
        value = raw.upper() if upper else raw.lower()
        if value not in choices:
            raise self.error(name, raw, "one of " + ", ".join(choices))
        return self._record(name, value)

    def names(self, name: str, *, aliases: tuple[str, ...] = (), secret: bool = False) -> tuple[str, ...]:
        """A comma-separated list; Roboflow's bracketed form (`[a,b]`, quoted or not) is read too."""
        for candidate in (name, *aliases):
            raw = self._raw(candidate)
            if raw is not None:
                items = tuple(
                    item.strip().strip("'\"").strip() for item in raw.strip("[]").split(",")
                )
                items = tuple(item for item in items if item)
                shown = f"{len(items)} set (hidden)" if secret else ",".join(items)
                return self._record(name, items, shown, origin=self._origin_of(candidate))
        return self._default(name, (), "")

    def path(self, name: str, default: Path) -> Path:
        raw = self._raw(name)
        if raw is None:
            return self._default(name, default)
        return self._record(name, Path(raw).expanduser())

    # -- errors and the report -----------------------------------------------------------------

    def error(self, name: str, raw: str, allowed: str) -> SettingsError:
        """The one-line error for an unusable value."""
        return SettingsError(name, f"{name}={raw!r} is not valid: expected {allowed}.")

    def report(self) -> list[SettingRecord]:
        """Everything read so far, in the order it was read."""
        return list(self.records.values())

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def _origin_of(self, name: str) -> str:
        return FROM_ENV_FILE if name in self.env_file else FROM_ENVIRONMENT

    def _record(self, name: str, value: Any, shown: Any = None, origin: str | None = None) -> Any:
        text = str(value) if shown is None else str(shown)
        self.records[name] = SettingRecord(name, text, origin or self._origin_of(name))
        return value

    def _default(self, name: str, value: Any, shown: Any = None) -> Any:
        text = "" if value is None and shown is None else str(value if shown is None else shown)
        self.records[name] = SettingRecord(name, text, FROM_DEFAULT)  # the last reader decides
        return value


def read_package_settings(env: EnvReader) -> None:
    """Read, and so check and record, the settings each installed package declares under
    SETTINGS_GROUP. A package whose module cannot be imported (a missing optional dependency)
    is skipped, as the server skips its routes; a bad value raises SettingsError."""
    from importlib.metadata import entry_points

    for entry_point in sorted(entry_points(group=SETTINGS_GROUP), key=lambda point: point.name):
        try:
            reader = entry_point.load()
        except ImportError:
            continue
        reader(env)


def _hidden(value: str | None) -> str:
    return "set (hidden)" if value else ""


def _range_words(noun: str, minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{noun} from {minimum} to {maximum}"
    if minimum is not None:
        return f"{noun} of at least {minimum}"
    if maximum is not None:
        return f"{noun} of at most {maximum}"
    return noun
