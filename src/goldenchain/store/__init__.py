"""The ledger: SQLAlchemy models, Alembic migrations, the content-addressed artifact store."""
