"""`manage.py stock_audit` as the tests run it: every stock row must equal the sum of its ledger."""

from io import StringIO

from django.core.management import call_command


def assert_stock_matches_ledger() -> None:
    """Run the audit like an operator would; it raises (exit 1, with the report) on any drift."""
    out = StringIO()
    call_command("stock_audit", stdout=out)
    assert "Stock audit: OK" in out.getvalue()
