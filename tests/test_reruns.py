"""ui.reruns: a widget's callback that reruns other fragments than its own keeps what its run
carries. A click on a view widget while the Explorer's timer waited for a run's end was folded
into the timer's request to draw that end; narrowed to the view, the end was never drawn (the
page said "training" for good). Streamlit's own request queue folds the two here."""
import types

import pytest
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

from ui import reruns

IDS = {"progress": "id-p", "explorer": "id-e", "view": "id-v", "buttons": "id-b"}


@pytest.fixture(autouse=True)
def _widget_runs_as_in_the_browser():
    """(Here a full run is a full run: conftest's AppTest reading is not wanted.)"""


class Rerun(Exception):
    """The fake Streamlit's yield point: the runner takes a pending request and ends the run."""


@pytest.fixture
def run(monkeypatch):
    """A callback's run (``carried``: its fragments, None for a full run); what it asks for
    lands in ``run.requests`` (Streamlit's own queue) or ``run.keyed`` (st.rerun(keys))."""
    ctx = types.SimpleNamespace(
        fragment_ids_this_run=None, script_requests=ScriptRequests(), query_string="", page_script_hash="page",
        cached_message_hashes=set(), context_info=None,
        fragment_storage=types.SimpleNamespace(resolve_target=lambda keys: [IDS[k] for k in keys]))
    keyed = []

    def rerun(keys):
        keyed.append(list(keys))
        raise Rerun()

    def empty():
        raise Rerun()

    monkeypatch.setattr(reruns, "get_script_run_ctx", lambda: ctx)
    monkeypatch.setattr(reruns, "st", types.SimpleNamespace(rerun=rerun, empty=empty))
    ctx.keyed, ctx.requests = keyed, ctx.script_requests
    return ctx


def folded(*requests: RerunData) -> list[str]:
    """The fragments of the run Streamlit starts for ``requests`` arriving during another run."""
    queue = ScriptRequests()
    for request in requests:
        assert queue.request_rerun(request)
    taken = queue.on_scriptrunner_yield()
    assert taken is not None, "a fragment-scoped request preempts the run going on"
    return taken.rerun_data.fragment_id_queue


def test_a_view_widget_clicked_while_the_tick_waited_for_the_end_leaves_the_end_drawn(run):
    # The hops radio (in the explorer's fragment) clicked while the timer's run waits for the
    # end; then that run asks for the progress, the explorer and the buttons (ui.live.show_end)
    run.fragment_ids_this_run = folded(
        RerunData(fragment_id=IDS["explorer"]),
        RerunData(fragment_id_queue=[IDS[k] for k in ("progress", "explorer", "buttons")],
                  is_fragment_scoped_rerun=True))
    assert set(run.fragment_ids_this_run) == {"id-p", "id-e", "id-b"}
    with pytest.raises(Rerun):
        reruns.retarget(["view"])      # the hops radio's callback: the view first (ui.network.view_first)
    asked = run.requests.on_scriptrunner_yield()
    assert asked.rerun_data.fragment_id_queue[0] == "id-v"   # the view first, as the callback asks
    assert set(asked.rerun_data.fragment_id_queue) == {"id-v", "id-p", "id-e", "id-b"}   # and the end
    assert asked.rerun_data.is_fragment_scoped_rerun and not run.keyed


def test_a_widget_s_own_run_is_retargeted_and_a_full_run_goes_on(run):
    run.fragment_ids_this_run = [IDS["explorer"]]   # the run of the radio's click alone
    with pytest.raises(Rerun):
        reruns.retarget(["view"])
    assert run.keyed == [["view"]]   # st.rerun(keys): the view's fragment instead of the explorer's
    run.fragment_ids_this_run = None   # a full run: every fragment is in it, nothing to ask
    reruns.retarget(["view"])
    assert run.keyed == [["view"]] and run.requests.on_scriptrunner_yield() is None
