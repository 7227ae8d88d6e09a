"""The warehouse: wherever the settings put it (a DuckDB file, PostgreSQL, Spark), its canonical tables as an
Ibis backend, the data version, the one import pipeline that fills it, and the spool the event collector writes."""

from shoplens.warehouse._changes import TableChange
from shoplens.warehouse._connection import Warehouse, change_token, connect, warehouse_exists
from shoplens.warehouse._ddl import EngineName
from shoplens.warehouse._duckdb_file import HELD_BY_ANOTHER
from shoplens.warehouse._erase import (
    delete_older_than,
    erase_from_quarantine,
    erase_from_warehouse,
    erase_many_from_warehouse,
    exact_columns,
    rewrite_file,
)
from shoplens.warehouse._import_files import (
    detect_profile,
    import_feedback,
    import_files,
    import_target,
    register_import_target,
)
from shoplens.warehouse._import_lock import WAITING_MESSAGE, import_lock, import_running
from shoplens.warehouse._parsing import customer_key_sql
from shoplens.warehouse._personal_data import write_personal_data
from shoplens.warehouse._pipeline import (
    FileCounts,
    FileLoad,
    ImportSummary,
    ImportTarget,
    Plan,
    Progress,
    TableFile,
    get_profile,
    new_import_id,
)
from shoplens.warehouse._postgres import store_schema
from shoplens.warehouse._preview import PREVIEW_RECORDS, FilePreview, PreviewRow, preview_file
from shoplens.warehouse._readers import Reject, StagedFile, file_format, peek_columns, read_header, stage_file
from shoplens.warehouse._records import ReadLimits
from shoplens.warehouse._side_tables import SIDE_TABLES, load_table_file
from shoplens.warehouse._spool import EventSpool, SpoolLoad, load_spool
from shoplens.warehouse._vault_store import KeyRotation, key_of_email, rotate_vault_key, seal_plain_vault

__all__ = [
    "HELD_BY_ANOTHER",
    "PREVIEW_RECORDS",
    "SIDE_TABLES",
    "WAITING_MESSAGE",
    "EngineName",
    "EventSpool",
    "FileCounts",
    "FileLoad",
    "FilePreview",
    "ImportSummary",
    "ImportTarget",
    "KeyRotation",
    "Plan",
    "PreviewRow",
    "Progress",
    "ReadLimits",
    "Reject",
    "SpoolLoad",
    "StagedFile",
    "TableChange",
    "TableFile",
    "Warehouse",
    "change_token",
    "connect",
    "customer_key_sql",
    "delete_older_than",
    "detect_profile",
    "erase_from_quarantine",
    "erase_from_warehouse",
    "erase_many_from_warehouse",
    "exact_columns",
    "file_format",
    "get_profile",
    "import_feedback",
    "import_files",
    "import_lock",
    "import_running",
    "import_target",
    "key_of_email",
    "load_spool",
    "load_table_file",
    "new_import_id",
    "peek_columns",
    "preview_file",
    "read_header",
    "register_import_target",
    "rewrite_file",
    "rotate_vault_key",
    "seal_plain_vault",
    "stage_file",
    "store_schema",
    "warehouse_exists",
    "write_personal_data",
]
