"""The public API is exactly what shoplens/__init__.py exports (httpx's habit)."""

import shoplens


def test_all_is_pinned_and_importable() -> None:
    assert shoplens.__all__ == [
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
    for name in shoplens.__all__:
        assert getattr(shoplens, name) is not None, name


def test_every_exported_error_is_a_shoplens_error() -> None:
    errors = [getattr(shoplens, n) for n in shoplens.__all__ if n.endswith("Error")]
    assert all(issubclass(e, shoplens.ShoplensError) for e in errors)
    assert {e.exit_code for e in errors if issubclass(e, shoplens.InputError)} == {2}


def test_a_field_error_names_fields_as_each_front_end_does() -> None:
    from shoplens.cli._app import option_name
    from shoplens.errors import FieldError

    error = FieldError("{observation_end} 2024-03-01 must be after {annual_discount_rate} and {start}")
    assert str(error) == "observation_end 2024-03-01 must be after annual_discount_rate and start"
    assert error.render(option_name) == "--observation-end 2024-03-01 must be after --discount-rate and --from"
    assert error.fields == ["observation_end", "annual_discount_rate", "start"]
    assert error.exit_code == 2
