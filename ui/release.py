"""A closed tab gives its memory back: its trainer is dropped, and the freed heap goes to the OS.

Streamlit keeps a disconnected session for ``server.disconnectedSessionTTL`` seconds so that
a tab whose network blinked can resume it; after that no connection can (its stored entry
reads as absent). But Streamlit 1.67 removes that entry only on the next write to its session
storage, usually the next tab that closes, so the last tabs of a lecture would keep their
models until then. So every script run registers its session here (:func:`watch`), and a
janitor thread asks the runtime every few seconds whether each session is still connected
(``Runtime.is_active_session``); once one has been gone longer than the TTL, the janitor
deletes what its Session State holds (the trainer with its model, optimizer, snapshots and
cached α; layouts; the Compare page's runs; widget values) and what Streamlit's own shutdown
frees in the runtime's stores (:func:`forget`): the Explorer's deferred downloads are
closures over the trainer, and an expired session is never shut down.

A trainer that is finalised (:func:`track`: ``weakref.finalize``; the janitor's clearing, a
Reset, new settings, an evicted shared run) asks for one release: ``gc.collect()`` and then
glibc's ``malloc_trim(0)``, which hands the free pages of every malloc arena back to the OS
(glibc keeps them otherwise, and each session's script thread has its own arena). Releases
are throttled: many finalised at once (a lecture hall closing) release once, THROTTLE_S
later. Where ctypes finds no ``malloc_trim`` (macOS, musl) only the collection runs.
To measure what each part does (``python -m bench.release``): ``GATVIZ_NO_TRIM=1`` leaves out
``malloc_trim``, ``GATVIZ_NO_RELEASE=1`` all of this module.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
import time
import weakref

THROTTLE_S = 1.0          # finalisations within this window share one collection and trim
TRIM = os.environ.get("GATVIZ_NO_TRIM") != "1"        # "1": no malloc_trim (collection still runs)
ON = os.environ.get("GATVIZ_NO_RELEASE") != "1"       # "1": none of this (to measure without it)

# Re-entrant: a trainer's finaliser (request_release) runs wherever a collection happens, also in
# a thread that holds this lock (the janitor's sweep, a script run's watch). With a plain lock
# that thread waited for itself, and every script run after it waited in watch(): the server
# hung (seen once, in a test run's janitor, mid-sweep).
_lock = threading.RLock()
_tracked: weakref.WeakSet = weakref.WeakSet()
_pending = False            # a release is scheduled
_collecting = None          # thread id inside release()'s gc.collect(): its finalisers need no new release
_sessions: dict[str, list] = {}   # session id -> [its SafeSessionState, last time seen connected]
_janitor: threading.Thread | None = None
stats = {"finalised": 0, "releases": 0, "sessions": 0}   # for tests and the server log


def _find_malloc_trim():
    """glibc's ``malloc_trim(size_t pad) -> int``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_malloc_trim = _find_malloc_trim()


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


def release() -> None:
    """Collect garbage (a trainer in a reference cycle is freed here) and trim the heap."""
    global _pending, _collecting
    with _lock:
        _pending = False
    before = _rss_mb()
    _collecting = threading.get_ident()
    try:
        gc.collect()
    finally:
        _collecting = None
    trimmed = TRIM and _malloc_trim is not None
    if trimmed:
        _malloc_trim(0)   # returns whether pages went back; either way it ran
    with _lock:
        stats["releases"] += 1
    after = _rss_mb()
    rss = f"; RSS {before:.0f} -> {after:.0f} MB" if before is not None and after is not None else ""
    # one line in the server log per release (bench/release.py counts them)
    print(f"gatviz: released memory ({stats['finalised']} trainers finalised so far, "
          f"{'malloc_trim ran' if trimmed else 'no malloc_trim'}){rss}", flush=True)


def request_release() -> None:
    """A release THROTTLE_S from now, unless one is already scheduled (many closes: one release)."""
    global _pending
    with _lock:
        stats["finalised"] += 1
        if _pending or _collecting == threading.get_ident():
            return
        _pending = True
    timer = threading.Timer(THROTTLE_S, release)
    timer.daemon = True
    timer.start()


def track(trainer) -> None:
    """Ask for a release once ``trainer`` is finalised (at most one finaliser per trainer)."""
    if not ON or trainer is None or trainer in _tracked:
        return
    _tracked.add(trainer)
    weakref.finalize(trainer, request_release)


# ---------------------------------------------------------------- closed sessions
def _ttl() -> float:
    from streamlit import config
    return float(config.get_option("server.disconnectedSessionTTL"))


def clear(state) -> int:
    """Delete every key of a Session State no tab can come back to (a shared graph lives on in
    its cache: only this session's reference goes)."""
    keys = list(state.filtered_state)
    for key in keys:
        try:
            del state[key]
        except KeyError:
            pass
    return len(keys)


def forget(session_id: str) -> None:
    """What Streamlit's own session shutdown frees in its runtime-wide stores (uploaded files,
    media and deferred downloads, whose callables hold the trainer, dataframe sources), for a
    session that expired without one. Each store is thread-safe."""
    from streamlit import runtime
    if not runtime.exists():
        return
    rt = runtime.get_instance()
    rt.uploaded_file_mgr.remove_session_files(session_id)
    rt.media_file_mgr.clear_session_refs(session_id)
    rt.media_file_mgr.remove_orphaned_files()
    rt.dataframe_source_mgr.clear_all_for_session(session_id)


def sweep(is_active, ttl: float, now: float | None = None, on_gone=forget) -> int:
    """Clear every watched session that has been disconnected for longer than ``ttl`` seconds.

    Args:
        is_active: session id -> bool, whether a browser tab is connected to it now.
        ttl: Streamlit's server.disconnectedSessionTTL (after it no tab can resume the session).
        on_gone: called with the id of each session cleared (default :func:`forget`).

    Returns:
        How many sessions were cleared.
    """
    now = time.monotonic() if now is None else now
    gone = []
    with _lock:
        for sid, entry in list(_sessions.items()):
            if is_active(sid):
                entry[1] = now
            elif now - entry[1] > ttl:
                gone.append((sid, _sessions.pop(sid)[0]))
    for sid, state in gone:
        clear(state)
        on_gone(sid)
    if gone:
        with _lock:
            stats["sessions"] += len(gone)
        gc.collect()   # a trainer held by a reference cycle is finalised here
    return len(gone)


def _run_janitor(period: float) -> None:
    from streamlit import runtime
    while True:
        time.sleep(period)
        if not runtime.exists():
            continue
        try:
            sweep(runtime.get_instance().is_active_session, _ttl())
        except Exception as e:   # never take the server down; say it once per failure
            print(f"gatviz: could not release closed sessions: {e!r}", flush=True)


def watch(trainer=None) -> None:
    """Register this script run's session for the janitor (and track ``trainer``).

    Only under ``streamlit run``: without a runtime (AppTest, bare mode) sessions are not watched.
    """
    global _janitor
    track(trainer)
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx(suppress_warning=True)
    if not ON or ctx is None or not runtime.exists():
        return
    with _lock:
        _sessions[ctx.session_id] = [ctx.session_state, time.monotonic()]
        if _janitor is None:
            period = min(5.0, max(0.5, _ttl() / 2))
            _janitor = threading.Thread(target=_run_janitor, args=(period,), name="gatviz-release", daemon=True)
            _janitor.start()
