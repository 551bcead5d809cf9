"""``data:`` URLs: how start frames travel to fal and Replicate, and how Together's base64 results come back.

Only base64 data URLs are produced; parsing accepts base64 and percent-encoded ones (RFC 2397)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_to_bytes

__all__ = ["decode_data_url", "encode_data_url", "is_data_url", "sniff_image_mime"]


def encode_data_url(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,<data>``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def is_data_url(url: str) -> bool:
    return url[:5].lower() == "data:"


def decode_data_url(url: str) -> tuple[bytes, str]:
    """The bytes and media type of a ``data:`` URL; :class:`ValueError` (without echoing the payload) if
    it is malformed."""
    if not is_data_url(url):
        raise ValueError("not a data: URL")
    head, sep, payload = url[5:].partition(",")
    if not sep:
        raise ValueError("data: URL has no comma")
    params = head.split(";")
    mime = params[0] or "text/plain"
    if "base64" in (p.strip().lower() for p in params[1:]):
        try:
            return base64.b64decode(payload, validate=True), mime
        except (binascii.Error, ValueError):
            raise ValueError("data: URL has invalid base64") from None
    return unquote_to_bytes(payload), mime


def sniff_image_mime(data: bytes, default: str = "application/octet-stream") -> str:
    """The image type from its magic bytes (PNG, JPEG, WebP), else ``default``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return default
