"""Reports read only the ledger."""
