"""An uploaded file's bytes as text: its encoding, and files that are not text.

UTF-8 (with or without a byte-order mark), UTF-16/32 with a byte-order mark, else
GB18030 (Chinese text, as Excel saves CSV on Chinese Windows), else Windows-1251 (Cyrillic
words), else Windows-1252, else latin-1. A UTF-8 file holding bytes that are not UTF-8 is refused,
naming the first such line; images, PDFs, archives and binary files are refused by name.
"""
from __future__ import annotations

import codecs
import re

from . import limits
from .errors import GatvizError

MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
         b"%PDF": "a PDF document", b"\x1f\x8b": "a gzip archive",
         b"PK\x03\x04": "a ZIP archive (an Excel .xlsx is one: save it as CSV)"}
# C0 control bytes never found in text files (tab, newlines, form feed, DOS EOF excluded)
_CONTROL = bytes(range(0, 9)) + bytes(range(14, 26)) + bytes(range(28, 32))


def decode(raw: bytes, what: str) -> tuple[str, str]:
    """Text of a file, and the encoding used when it was not UTF-8 ("" for UTF-8).

    A single DOS end-of-file byte (Ctrl-Z, ``\\x1a``) ending the file, as old
    Windows tools write one, is dropped: it would end the last name; so are
    byte-order marks inside the text.
    """
    text, encoding = _text(raw, what)
    # a byte-order mark inside the text (files joined with cat) is no character of a name
    text = text.replace("\ufeff", "")
    return (text[:-1] if text.endswith("\x1a") else text), encoding


def _text(raw: bytes, what: str) -> tuple[str, str]:
    if len(raw) > limits.MAX_FILE_BYTES:
        raise GatvizError(f"the {what} is {size(len(raw))}; gatviz reads files of at most "
                          f"{size(limits.MAX_FILE_BYTES)} (MAX_FILE_BYTES in {limits.WHERE})")
    if not raw:
        raise GatvizError(f"the {what} is empty")
    for magic, kind in MAGIC.items():
        if raw.startswith(magic):
            raise GatvizError(f"the {what} does not look like text: it starts like {kind}")
    # UTF-32's BOM begins like UTF-16's: try it first. NUL is never text: a name holding
    # one (UTF-32 read as UTF-16, say) would be a different name than the file shows.
    for bom, encoding in (((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "UTF-32"),
                          ((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "UTF-16")):   # Excel's "Unicode text"
        if raw.startswith(bom):
            try:
                text = raw.decode(encoding.lower())
            except UnicodeDecodeError:
                continue
            if "\0" in text:
                raise GatvizError(f"the {what} holds NUL characters after decoding it as {encoding}; "
                                  f"save it as UTF-8 text")
            return text, encoding
    head = raw[:65536]
    controls = len(head) - len(head.translate(None, _CONTROL))
    if b"\0" in raw or controls > len(head) // 100:
        raise GatvizError(f"the {what} does not look like text: it holds binary bytes "
                          f"(save it as CSV or plain text)")
    try:
        return raw.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        _refuse_mixed(raw, what)
    chinese = _gb18030(raw)
    if chinese is not None:
        return chinese, "GB18030 (GBK, as Excel saves CSV on Chinese Windows), not valid UTF-8"
    cyrillic = _cp1251(raw)
    if cyrillic is not None:
        return cyrillic, "Windows-1251 (Cyrillic), not valid UTF-8"
    # cp1252 before latin-1 gives Windows' curly quotes and €; latin-1 decodes anything
    try:
        return raw.decode("cp1252"), "Windows-1252, not valid UTF-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1, not valid UTF-8"


def _gb18030(raw: bytes) -> str | None:
    """The text of a GBK/GB18030 file (Excel's CSV on Chinese Windows), else None.

    Every run of non-ASCII bytes must have even length (a character is two bytes) and
    decode to Chinese (CJK ideographs, their punctuation, full-width forms): a latin-1
    accent stands alone between ASCII letters (``Müller``) and is left to Windows-1252.
    """
    return _in_script(raw, "gb18030", lambda runs: not any(len(r) % 2 for r in runs),
                      lambda c: "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")


def _cp1251(raw: bytes) -> str | None:
    """The text of a Windows-1251 (Cyrillic) file, else None: its non-ASCII bytes come in
    words (runs of 3 or more on average), nearly all Cyrillic letters; Western accents stand
    alone (``Zoë``) and are left to Windows-1252."""
    return _in_script(raw, "cp1251", lambda runs: sum(map(len, runs)) >= 3 * len(runs),
                      lambda c: "\u0400" <= c <= "\u04ff")


def _in_script(raw: bytes, encoding: str, runs_fit, in_script) -> str | None:
    """``raw`` decoded as ``encoding`` when its runs of non-ASCII bytes fit ``runs_fit`` and
    at least 90 % of its non-ASCII characters are ``in_script``; else None."""
    runs = re.findall(rb"[\x80-\xff]+", raw)
    if not runs or not runs_fit(runs):
        return None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        return None
    wide = [c for c in text if ord(c) > 127]
    return text if sum(map(in_script, wide)) >= 0.9 * len(wide) else None


def _refuse_mixed(raw: bytes, what: str) -> None:
    """Refuse a file holding both UTF-8 characters and bytes that are not UTF-8.

    Such a file was written by two programs (a latin-1 name pasted into a UTF-8
    file): read as Windows-1252, every UTF-8 accent would become two letters
    (``José`` as ``JosÃ©``). A file with more bytes that are not UTF-8 than UTF-8
    characters (and no UTF-8 byte-order mark) is left to the Windows-1252/latin-1
    fallback: in a latin-1 file an accented capital followed by a symbol (``É»``,
    ``Â°``) happens to be a valid UTF-8 pair.
    """
    text = raw.decode("utf-8", "surrogateescape")   # each byte that is not UTF-8 becomes U+DC80..U+DCFF
    good = re.search(r"[^\x00-\x7f\udc80-\udcff]", text)
    if good is None:
        return
    if good.group() != "\ufeff" and (len(re.findall(r"[\udc80-\udcff]", text))
                                     > len(re.findall(r"[^\x00-\x7f\udc80-\udcff]", text))):
        return
    bad = re.search(r"[\udc80-\udcff]", text)
    shown = "a UTF-8 byte-order mark" if good.group() == "\ufeff" else f"UTF-8 {good.group()!r}"
    raise GatvizError(f"line {_line_at(text, bad.start()):,} of the {what} is not UTF-8 (byte "
                      f"0x{ord(bad.group()) - 0xDC00:02X}) while the rest of the file is ({shown} "
                      f"on line {_line_at(text, good.start()):,}): save the file as UTF-8")


def _line_at(text: str, k: int) -> int:
    """Line number of text[k], counting \\n, \\r\\n and \\r line ends as :mod:`gatviz.rows` does."""
    return text.count("\n", 0, k) + text.count("\r", 0, k) - text.count("\r\n", 0, k) + 1


def size(n: int) -> str:
    """A file size as a person reads it."""
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"
