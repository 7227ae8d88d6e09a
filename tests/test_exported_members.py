"""The public API is exactly what shoplens/__init__.py exports (httpx's habit)."""

import shoplens


def test_all_is_pinned_and_importable() -> None:
    assert shoplens.__all__ == [
        "ConfigError",
        "ImportSummary",
        "InputError",
        "MappingError",
        "MissingColumnsError",
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
    for name in shoplens.__all__:
        assert getattr(shoplens, name) is not None, name


def test_every_exported_error_is_a_shoplens_error() -> None:
    errors = [getattr(shoplens, n) for n in shoplens.__all__ if n.endswith("Error")]
    assert all(issubclass(e, shoplens.ShoplensError) for e in errors)
    assert {e.exit_code for e in errors if issubclass(e, shoplens.InputError)} == {2}
