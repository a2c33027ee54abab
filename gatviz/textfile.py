"""An uploaded file's bytes as text: its encoding, and files that are not text.

UTF-8 (with or without a byte-order mark), UTF-16/32 with a byte-order mark, else
GB18030 (Chinese text, as Excel saves CSV on Chinese Windows), else Windows-1251 (Cyrillic
words) or Windows-1253 (Greek words), else the East Asian code page it reads best in (GBK,
Big5, Shift-JIS, EUC-KR: Excel's CSV on Chinese, Taiwanese, Japanese, Korean Windows), else
Windows-1252, else latin-1. A
UTF-8 file holding bytes that are not UTF-8 is refused, naming the first such line; images,
PDFs, archives and binary files are refused by name.
"""
from __future__ import annotations

import codecs
import math
import re
import unicodedata

from . import limits
from .errors import GatvizError

MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
         b"%PDF": "a PDF document", b"\x1f\x8b": "a gzip archive",
         b"PK\x03\x04": "a ZIP archive (an Excel .xlsx is one: save it as CSV)"}
# C0 control bytes never found in text files (tab, newlines, form feed, DOS EOF excluded)
_CONTROL = bytes(range(0, 9)) + bytes(range(14, 26)) + bytes(range(28, 32))
SAMPLE = 100_000   # characters of a file its script and code page are judged on


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
    alphabet = _alphabetic(raw)
    if chinese is not None:   # (Korean EUC-KR reads as Chinese here too: the scores tell them apart)
        # Cyrillic or Greek words (cased as words, likely letters) as hanzi a Chinese text seldom has
        if alphabet is not None and alphabet[2] and not _mostly_common_hanzi(chinese):
            return alphabet[:2]
        return _east_asian(raw, what) or (chinese, f"{GBK}, not valid UTF-8")
    if alphabet is not None:
        return alphabet[:2]
    east_asian = _east_asian(raw, what)
    if east_asian is not None:
        return east_asian
    # cp1252 before latin-1 gives Windows' curly quotes and €; latin-1 decodes anything
    try:
        return raw.decode("cp1252"), "Windows-1252, not valid UTF-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1, not valid UTF-8"


def _gb18030(raw: bytes) -> str | None:
    """The text of a GBK/GB18030 file (Excel's CSV on Chinese Windows), else None.

    Every run of non-ASCII bytes must have even length (a character is two bytes) and
    decode to Chinese (CJK ideographs, their punctuation, full-width forms), not inside
    Latin words: a latin-1 accent stands alone between ASCII letters (``Müller``) and is
    left to Windows-1252.
    """
    text = _in_script(raw, "gb18030", lambda runs: not any(len(r) % 2 for r in runs), _han)
    return None if text is None or _inside_latin(text[:SAMPLE]) else text


# Letter frequencies, per cent of the letters of running text (lower case; Greek's accented
# vowels as their vowel): how likely a reading's letters are in the language it claims.
_RUSSIAN = dict(zip("оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё",
                    (10.97, 8.45, 8.01, 7.35, 6.70, 6.26, 5.47, 4.73, 4.54, 4.40, 3.49, 3.21, 2.98, 2.81, 2.62, 2.01,
                     1.90, 1.74, 1.70, 1.65, 1.59, 1.44, 1.21, 0.97, 0.94, 0.73, 0.64, 0.48, 0.36, 0.32, 0.26, 0.04,
                     0.04)))
_GREEK = dict(zip("αοιετσνηυρπκμλωδγχθφβξζψ",
                  (12.0, 9.8, 8.9, 8.0, 7.9, 7.6, 6.7, 5.6, 4.4, 4.3, 4.1, 4.1, 3.4, 2.8, 2.1, 1.8, 1.8, 1.2, 1.3, 0.9,
                   0.7, 0.4, 0.4, 0.15)))
_GREEK.update({a: _GREEK[b] for a, b in zip("άέήίόύώς", "αεηιουωσ")}, ϊ=0.1, ϋ=0.05)


def _expected(frequency: dict) -> float:
    """The mean log-frequency of a language's running text (its accented letters left out)."""
    base = {c: f for c, f in frequency.items() if unicodedata.decomposition(c) == "" and c != "ς"}
    total = sum(base.values())
    return sum(f / total * math.log(f) for f in base.values())


# The one-byte code pages of alphabets other than Latin: (codec, what the report calls it,
# a letter of the alphabet, its letters' frequencies, their running text's mean log-frequency).
ALPHABETS = (
    ("cp1251", "Windows-1251 (Cyrillic)", lambda c: "\u0400" <= c <= "\u04ff", _RUSSIAN, _expected(_RUSSIAN)),
    ("cp1253", "Windows-1253 (Greek)", lambda c: "\u0384" <= c <= "\u03ce", _GREEK, _expected(_GREEK)),
)


def _alphabetic(raw: bytes) -> tuple[str, str, bool] | None:
    """A Windows-1251 (Cyrillic) or Windows-1253 (Greek) file: (text, encoding, sure), else None.

    A reading counts when its non-ASCII bytes come in words (runs of 3 or more on average),
    nearly all letters of the alphabet; Western accents stand alone (``Zoë``) and are left to
    Windows-1252. Greek read as Cyrillic decodes too (its letters are Cyrillic letters there),
    but its words are cased oddly (an accented vowel, ``ά``, is a capital ``Ь``) and its letters
    are rare Russian ones; Russian read as Greek has rare Greek letters (``а`` is ``ΰ``). The
    reading with the fewest odd words is taken, then the one whose letters are likelier.

    ``sure``: no odd word, every character that is not ASCII a letter, and letters about as
    likely as the language's (their mean log-frequency at most 0.65 under its running text's):
    Russian and Greek words read as GBK are hanzi as well, and this tells them from Chinese.
    """
    readings = []
    for codec, name, letter, frequency, expected in ALPHABETS:
        text = _in_script(raw, codec, lambda runs: sum(map(len, runs)) >= 3 * len(runs), letter)
        if text is not None:
            words = [w for w in re.findall(r"[^\W\d_]+", text[:SAMPLE]) if not w.isascii()]
            letters = [c for c in "".join(words).lower() if not c.isascii()]
            likely = sum(math.log(frequency.get(c, 0.01)) for c in letters) / max(1, len(letters))
            wide = [c for c in text[:SAMPLE] if ord(c) > 127]
            sure = likely >= expected - 0.65 and len(letters) == len(wide)
            readings.append((sum(map(_odd_word, words)), -likely, sure, text, f"{name}, not valid UTF-8"))
    if not readings:
        return None
    odd, _, sure, text, encoding = min(readings, key=lambda r: r[:2])
    return text, encoding, sure and not odd


def _odd_word(word: str) -> bool:
    """A word cased as no word is (neither lower case, Capitalised nor UPPER CASE), or with a
    final sigma inside it."""
    return not (word.islower() or word.isupper() or word.istitle()) or "ς" in word[:-1]


def _han(c: str) -> bool:
    """A CJK ideograph, CJK punctuation or a full-width form (not the half-width katakana
    and Hangul: single bytes of Shift-JIS that Western and Cyrillic letters read as)."""
    return ("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" or "\uf900" <= c <= "\ufaff"
            or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uff60" or "\uffe0" <= c <= "\uffef")


def _kana(c: str) -> bool:
    return "\u3040" <= c <= "\u30ff"


def _hangul(c: str) -> bool:
    return "\uac00" <= c <= "\ud7a3" or "\u3130" <= c <= "\u318f"


def _lead_in(codec: str, low: int, high: int):
    """Is a character, written in ``codec``, two bytes led by one in [low, high]? (The
    common characters of a code page sit in its first rows.)"""
    def common(c: str) -> bool:
        try:
            b = c.encode(codec)
        except UnicodeEncodeError:
            return False
        return len(b) == 2 and low <= b[0] <= high
    return common


_GB2312_LATER_ROWS = _lead_in("gb2312", 0xC9, 0xF7)
_GB2312_LEVEL_1 = _lead_in("gb2312", 0xB0, 0xD7)   # the 3,755 commonest hanzi


def _mostly_common_hanzi(text: str) -> bool:
    """Are 90 % of the text's hanzi GB2312's level 1? Chinese text is (names a little less);
    Russian and Greek words read as GBK are not: a pair of lower-case letters is a level-2
    hanzi or a rarer one."""
    hanzi = [c for c in text[:SAMPLE] if _han(c)]
    return sum(map(_GB2312_LEVEL_1, hanzi)) >= 0.9 * len(hanzi)   # hanzi past the rows Korean Hangul share
GBK = "GB18030 (GBK, as Excel saves CSV on Chinese Windows)"
KOREAN = "EUC-KR (CP949, Korean)"
# The code pages Excel saves CSV in on East Asian Windows: (codec, what the report calls it,
# a character of its language, a common one: GB2312 for GBK, Big5's level 1, kana and JIS
# level 1 for Shift-JIS, KS X 1001's Hangul for EUC-KR).
EAST_ASIAN = (
    ("gb18030", GBK, _han, _lead_in("gb2312", 0xB0, 0xF7)),
    ("cp950", "Big5 (CP950, Traditional Chinese)", _han, _lead_in("cp950", 0xA4, 0xC6)),
    ("cp932", "Shift-JIS (CP932, Japanese)", lambda c: _han(c) or _kana(c),
     lambda c: _kana(c) or _lead_in("cp932", 0x88, 0x98)(c)),
    ("cp949", KOREAN, lambda c: _hangul(c) or _han(c),
     lambda c: _hangul(c) and _lead_in("cp949", 0xB0, 0xC8)(c)),
)


def _east_asian(raw: bytes, what: str) -> tuple[str, str] | None:
    """A file in one of the EAST_ASIAN code pages (a character's second byte may be an ASCII
    letter there: the GB18030 test above leaves those files), else None.

    Each code page that decodes the whole file, 90 % of its non-ASCII characters of its
    language, is scored by the share of its characters that are common ones; the best is
    taken unless another scores within 0.1 of it (then the file is refused: save it as UTF-8;
    Korean is told from Chinese by the rows of its hanzi when it has 20 or more characters).
    A file whose bytes that are not ASCII are accented Latin letters, alone or in pairs
    (``Müller``, ``São``), is no East Asian text and is left to Windows-1252.
    """
    runs = re.findall(rb"[\x80-\xff]+", raw)
    if all(len(r) <= 2 and min(r) >= 0xC0 for r in runs):
        return None
    scored = []
    for codec, name, of_language, common in EAST_ASIAN:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        wide = [c for c in text[:SAMPLE] if ord(c) > 127]   # (the whole file decodes)
        if wide and sum(map(of_language, wide)) >= 0.9 * len(wide) and not _inside_latin(text[:SAMPLE]):
            scored.append((sum(map(common, wide)) / len(wide), name, text))
    if not scored:
        return None
    scored.sort(key=lambda x: x[0], reverse=True)
    if len(scored) > 1 and scored[1][0] > scored[0][0] - 0.1 and {scored[0][1], scored[1][1]} == {GBK, KOREAN}:
        # KS X 1001's Hangul are GB2312's first 25 rows of hanzi, byte for byte: Korean read as
        # GBK is hanzi of those rows only; Chinese text has a quarter of its hanzi further on
        text = next(t for _, name, t in scored if name == GBK)
        wide = [c for c in text[:SAMPLE] if ord(c) > 127]
        if len(wide) >= 20 and not any(map(_GB2312_LATER_ROWS, wide)):
            scored = [x for x in scored if x[1] != GBK]
    alike = [name for score, name, _ in scored if score > scored[0][0] - 0.1]
    if len(alike) > 1:
        raise GatvizError(f"the {what} is not UTF-8 and reads as {', as '.join(alike[:-1])} and as {alike[-1]} "
                          f"alike: save it as UTF-8 (Excel: CSV UTF-8)")
    return scored[0][2], f"{scored[0][1]}, not valid UTF-8"


_TOUCHING_LATIN = re.compile(r"(?<=[A-Za-z])[^\x00-\x7f]|[^\x00-\x7f](?=[A-Za-z])")


def _inside_latin(text: str) -> bool:
    """Do more than a tenth of the text's non-ASCII characters touch an ASCII letter? Western
    text read in a two-byte code page does: an accent and the letter after it become one
    character inside a word (``Müller``: M, one hanzi, ler); East Asian names seldom mix
    scripts (``A组``)."""
    return len(_TOUCHING_LATIN.findall(text)) > 0.1 * len(re.findall(r"[^\x00-\x7f]", text))


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
    wide = [c for c in text[:SAMPLE] if ord(c) > 127]   # (the whole file decodes)
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
