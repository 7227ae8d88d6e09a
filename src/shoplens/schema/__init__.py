"""Canonical tables of the warehouse."""

from shoplens.schema._tables import ANALYTIC_TABLES, MONEY, TABLES, UNIT_PRICE, Column, Table

__all__ = ["ANALYTIC_TABLES", "MONEY", "TABLES", "UNIT_PRICE", "Column", "Table"]
