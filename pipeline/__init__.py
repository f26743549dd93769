"""Syndicate: ingest partner blogs, extract and deduplicate their claims, publish a digest.

The library API is `pipeline.Syndicate` (`pipeline/core.py`; docs/library.md); its names
are loaded on first use, so that importing one stage (`pipeline.extract`, say) does not
import the whole pipeline.
"""
__version__ = "0.1.0"

_API = ("Syndicate", "RunEvents", "DigestResult", "Review", "ReviewQuestion", "ExtractResult", "extract_pages",
        "AcceptResult", "ScheduledResult")


def __getattr__(name: str):
    if name in _API:
        from . import core
        return getattr(core, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")


__all__ = ["__version__", *_API]
