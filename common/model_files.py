"""Where a model's files come from, in one order for every engine.

1. an explicit path (or name) from configuration,
2. weights shipped inside an installed Python package,
3. a hub name, only when ``MALGEUL_ALLOW_HUB=1`` (a user's machine with internet).

Nothing downloads by default: the product runs with no network.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

logger = logging.getLogger("malgeul.models")

Source = Literal["config", "package", "hub"]


class ModelNotFoundError(RuntimeError):
    """No configured, packaged or permitted hub copy of a model exists."""


@dataclass(frozen=True)
class ModelLocation:
    """A resolved model: a local path, or a hub name for libraries that fetch it themselves."""

    ref: str
    source: Source


def hub_allowed() -> bool:
    return os.environ.get("MALGEUL_ALLOW_HUB", "").lower() in ("1", "true", "yes")


def packaged_path(module: str, locate: Callable[[object], str | os.PathLike[str] | None]) -> Path | None:
    """Path of weights inside an installed package, or None when the package is absent."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    try:
        found = locate(mod)
    except (OSError, AttributeError, FileNotFoundError) as exc:
        logger.warning("package has no usable model files", extra={"package": module, "error": str(exc)})
        return None
    if found is None:
        return None
    path = Path(found)
    return path if path.exists() else None


def resolve_model(
    what: str,
    configured: str | None,
    packaged: Callable[[], Path | None] | None = None,
    hub_name: str | None = None,
) -> ModelLocation:
    """Resolve ``what`` (a human name for messages) to local files or, when allowed, a hub name.

    A configured value that is not an existing path is taken as a hub name: the user asked for it.
    """
    if configured:
        if Path(configured).expanduser().exists():
            return ModelLocation(str(Path(configured).expanduser().resolve()), "config")
        if hub_allowed():
            return ModelLocation(configured, "hub")
        raise ModelNotFoundError(
            f"{what}: {configured!r} is not a path on this machine, and hub downloads are off "
            "(set MALGEUL_ALLOW_HUB=1 to let the library fetch it by name)."
        )
    if packaged is not None:
        path = packaged()
        if path is not None:
            return ModelLocation(str(path), "package")
    if hub_name and hub_allowed():
        return ModelLocation(hub_name, "hub")
    raise ModelNotFoundError(
        f"{what}: no model configured and none found in installed packages"
        + (f"; set MALGEUL_ALLOW_HUB=1 to fetch {hub_name!r}" if hub_name else "")
    )
