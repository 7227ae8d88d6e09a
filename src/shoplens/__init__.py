"""shoplens: customer intelligence and retention for online retailers.

The public API is what this module exports; everything in underscore modules may change.
"""

from shoplens.config import Settings
from shoplens.errors import (
    ConfigError,
    FieldError,
    InputError,
    MappingError,
    MissingColumnsError,
    NotFoundError,
    ShoplensError,
    UnknownProfileError,
    UnreadableFileError,
    WarehouseError,
)
from shoplens.ingest import RowRule, SalesMapping, SourceProfile, register_profile, registered_profiles
from shoplens.warehouse import ImportSummary, Warehouse, import_files

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "FieldError",
    "ImportSummary",
    "InputError",
    "MappingError",
    "MissingColumnsError",
    "NotFoundError",
    "RowRule",
    "SalesMapping",
    "Settings",
    "ShoplensError",
    "SourceProfile",
    "UnknownProfileError",
    "UnreadableFileError",
    "Warehouse",
    "WarehouseError",
    "__version__",
    "import_files",
    "register_profile",
    "registered_profiles",
]
