"""srekit: turn an SRE team's own history into reliability decisions."""

from __future__ import annotations

from .config import ServiceConfig, load_config, parse_config
from .errors import ConfigError, InputError, ParameterError, SrekitError
from .ledger import LedgerEntry
from .spec import SLOSpec

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InputError",
    "LedgerEntry",
    "ParameterError",
    "SLOSpec",
    "ServiceConfig",
    "SrekitError",
    "__version__",
    "load_config",
    "parse_config",
]
