"""Pure domain: no I/O, no engine, no HTTP."""
