"""The warehouse: a DuckDB file with the canonical tables, and the importer that fills it."""

from shoplens.warehouse._connection import Warehouse
from shoplens.warehouse._feedback_loader import import_feedback
from shoplens.warehouse._importer import ImportSummary, get_profile, import_files, new_import_id
from shoplens.warehouse._tables_loader import SIDE_TABLES, load_table_file

__all__ = [
    "SIDE_TABLES",
    "ImportSummary",
    "Warehouse",
    "get_profile",
    "import_feedback",
    "import_files",
    "load_table_file",
    "new_import_id",
]
