"""Golden prompts: the library that ships with goldenchain, the studio's own (under ``GOLDENCHAIN_HOME``) and the
project's (``prompts.yaml`` beside the shot list), each prompt with its record from the ledger."""

from goldenchain.prompts.library import Entry, Library, Record, closest, load_library, record_of

__all__ = ["Entry", "Library", "Record", "closest", "load_library", "record_of"]
