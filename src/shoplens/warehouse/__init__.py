"""The warehouse: a DuckDB file with the canonical tables, and the importer that fills it."""

from shoplens.warehouse._connection import Warehouse
from shoplens.warehouse._importer import ImportSummary, get_profile, import_files, new_import_id

__all__ = ["ImportSummary", "Warehouse", "get_profile", "import_files", "new_import_id"]
