"""User text made safe for Streamlit, and the errors a page shows as one line."""
from __future__ import annotations

import string

import torch

from gatviz import GatvizError

USER_ERRORS = (GatvizError, MemoryError, torch.cuda.OutOfMemoryError)


def plain(text) -> str:
    """User text (node names, file cells) made safe for st.error/st.markdown: shown verbatim.

    Every ASCII punctuation mark is backslash-escaped (CommonMark), so no markdown,
    link, math or HTML forms; a word joiner (U+2060, invisible) after each ':'
    keeps ``:smile:``-style shortcodes from turning into emoji.
    """
    out = "".join("\\" + c if c in string.punctuation else c for c in str(text).replace("\n", " "))
    return out.replace(":", ":\u2060")


def head_label(head, in_lang: str | None = None) -> str:
    from .i18n import t
    if head in ("all", "mean"):
        return t(f"head.{head}", in_lang)
    return t("head.n", in_lang, head=head)
