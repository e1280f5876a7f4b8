"""A module imported when one of its names is first used.

``srekit aggregate`` reads and writes with pyarrow and numpy alone; pandas is needed only for
what a clean log never reaches (rejected rows, odd timestamps, the dense frame of the Python
API). Importing pandas takes 0.2–0.5 s, a third of a whole run on a 1 M-row log, so the modules
on that path name pandas through :class:`LazyModule`::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = LazyModule("pandas")

``tests/test_aggregate_startup.py`` checks that a clean run never imports it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for module ``name``; the first attribute read imports it (``importlib`` holds the
    import lock, so two threads cannot import it twice)."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if attr in LazyModule.__slots__:  # unset on a copy being made: not a name of the module
            raise AttributeError(attr)
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __reduce__(self) -> tuple[type[LazyModule], tuple[str]]:
        return LazyModule, (self._name,)  # a copy or an unpickled one stands for the module again

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
