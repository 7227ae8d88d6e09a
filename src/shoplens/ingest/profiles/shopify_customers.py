"""Shopify "Export customers" CSV, into the ``customers`` table and the vault.

One profile reads both header generations: the older export (First Name, Last Name, Email, Company, Address1,
..., Province Code, Country Code, Zip, Phone, Accepts Marketing, Total Spent, Total Orders, Tags, Note, Tax
Exempt) and the newer one (Customer ID, First Name, Last Name, Email, Accepts Email Marketing, Default Address
Company, Default Address Address1, ..., Default Address Country Code, ..., Phone, Accepts SMS Marketing, Total
Spent, Total Orders, Note, Tax Exempt, Tags), and Shopify's customer import template, which has the older
columns without the totals.

* The customer is keyed by the normalised e-mail, exactly as the Shopify orders profile keys the buyer, so a
  customer list and an orders export of the same shop name one person once. A row without a usable e-mail is
  keyed by its Customer ID (newer export), else quarantined.
* ``country`` and ``region`` are the country and province codes of the (default) address; ``consent_marketing``
  is Accepts Marketing / Accepts Email Marketing (SMS consent is not e-mail marketing consent and is not read);
  ``has_account`` is true (the shop lists the customer).
* E-mail, name (first and last), phone and address go to the vault only; Company and Note are redacted from
  quarantine files too.
* Total Spent and Total Orders are not stored: orders, and so spend, come from the orders export.
* Rows repeating an earlier row's e-mail (the template's extra address rows) are duplicates of the first;
  the vault keeps the first row's details.

A newer customer list replaces the stored rows (a withdrawn consent or a new country updates the customer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import SourceProfile, TablePlan, col, register_profile

REQUIRED = ("First Name", "Last Name", "Email", "Phone", "Tax Exempt")
ADDRESS_FIELDS = ("Address1", "Address2", "City", "Zip")
NEW_PREFIX = "Default Address "
PERSONAL = (
    "Customer ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone",
    "Company",
    "Note",
    *ADDRESS_FIELDS,
    *(NEW_PREFIX + f for f in ("Company", "Phone", *ADDRESS_FIELDS)),
)


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> TablePlan:
    def h(name: str) -> str:
        return f"nullif(trim({col(name)}), '')" if name in header else "CAST(NULL AS VARCHAR)"

    def address_field(name: str) -> str:
        """The older export's column, else the newer export's "Default Address ..." column."""
        return f"coalesce({h(name)}, {h(NEW_PREFIX + name)})"

    customer_id = f"nullif(ltrim({h('Customer ID')}, ''''), '')"  # written "'123" to keep spreadsheets off it

    def on_first_row(sql: str) -> str:
        """Only on the first row of a person: later rows (extra addresses) would overwrite the vault's fields."""
        person = f"coalesce(lower({h('Email')}), {customer_id})"
        return f"CASE WHEN row_number() OVER (PARTITION BY {person} ORDER BY rowid) = 1 THEN {sql} END"

    address = f"nullif(concat_ws(', ', {', '.join(address_field(f) for f in ADDRESS_FIELDS)}), '')"
    return TablePlan(
        table="customers",
        expressions={
            "customer_id": customer_id,
            "email": col("Email"),
            "name": on_first_row(f"nullif(concat_ws(' ', {h('First Name')}, {h('Last Name')}), '')"),
            "phone": on_first_row(f"coalesce({h('Phone')}, {h(NEW_PREFIX + 'Phone')})"),
            "address": on_first_row(address),
            "country": address_field("Country Code"),
            "region": address_field("Province Code"),
            "consent_marketing": f"coalesce({h('Accepts Marketing')}, {h('Accepts Email Marketing')})",
            "has_account": "'true'",
            "source_profile": "'shopify-customers'",
        },
        layout="shopify-customers",
        personal_columns=tuple(c for c in PERSONAL if c in header),
        replace_existing=True,
    )


PROFILE = register_profile(
    SourceProfile(
        name="shopify-customers",
        description="Shopify customers export, older or newer headers (First Name, Last Name, Email, Accepts "
        "Marketing or Accepts Email Marketing, Total Spent, ...) into customers and the vault",
        required=REQUIRED,
        build=_build,
        target="table",
    )
)
