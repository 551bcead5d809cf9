"""The durable engine (DBOS Transact). The only package that imports ``dbos``."""
