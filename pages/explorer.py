"""Attention explorer: train live, then read every head's attention around one node.

Two fragments: the progress column and the explorer (the view, its widgets, the table).
The run trains in a thread of its own (ui.live); while it trains, the browser fetches the
progress column (the growing curves, ui.curves) and the view (a fragment nested in the
explorer: the newest eval pass's view) every tick, outside script runs (ui.feed). A widget of
the explorer reruns only the explorer: switching node or hops never retrains, resends no
curves, and reuses the graph's cached layout; layer and head switch in the browser
(gatviz/choices.py).
"""
import streamlit as st

import ui

# the title and a skeleton first: on a cold server the imports below take ~3 s
loaded = ui.boot.skeleton("explorer.title")

import re  # noqa: E402
import time  # noqa: E402
from ui.i18n import lang, t, view_words  # noqa: E402
from gatviz import attention, exports, render, synthetic, uniformity  # noqa: E402
from gatviz import encoding as encoding_mod  # noqa: E402
from gatviz.choices import with_choices  # noqa: E402
loaded()   # the skeleton goes; the page draws

ui.page("attention explorer", "explorer.title", trains=True, sidebar_later=True)   # drawn below
ss = st.session_state
st.text(ui.words.graph_line(ss.gv_graph.report))


def safe(text) -> str:
    """A piece of a file name: letters, digits, '_', '.', '-' only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text))[:40]


def curves(trainer) -> None:
    """Progress, last accuracies, loss and accuracy curves (ui.curves). While the tab's run
    trains on its own, the browser asks for their newest every tick (ui.feed: no script run per
    tick) and tells the page once the run has ended: this fragment reruns and draws it done."""
    live = None
    if ui.live.follows() and ss.get("gv_runner") is not None:
        tab = ss.get("gv_live") or ss.setdefault("gv_live", ui.feed.Tab())   # (one token per tab: the view's too)
        runner, words, presenter = ss.gv_runner, ui.curves.words(lang()), ss.gv_presenter
        tab.curves = ui.feed.Curves(
            lambda: ui.curves.data(trainer, words, training=True, waiting=runner.waiting, presenter=presenter),
            runner, every=ui.live.tick_seconds, horizon=ui.live.horizon)
        live = {"url": ui.network.live_url(tab.token, ui.feed.CURVES_ROUTE), "every": ui.live.tick_seconds()}
    elif ss.get("gv_live") is not None:
        ss.gv_live.curves = None
    ui.curves.draw(trainer, live=live, on_ended=ui.live.on_ended)


def table(trainer, graph, center: int, layer: int, head) -> "pandas.DataFrame":
    """The view's numbers for the centre node, sortable, with CSV and HTML downloads."""
    frame = exports.attention_table(trainer, center, layer, head)
    self_alpha = float(frame.loc[frame["self"], "alpha"].iloc[0])
    st.subheader(t("attends"))
    st.text(t("centre.i", name=graph.names[center]))
    st.markdown(t("self.uniform", self_alpha=f"{self_alpha:.4f}", degree=len(frame) - 1, inputs=len(frame),
                  uniform=f"{1 / len(frame):.4f}", head=ui.head_label(head if head != "all" else "mean"),
                  layer=layer + 1))
    shown = frame.drop(columns=["source", "uniform"])
    config = {"name": st.column_config.TextColumn("neighbour j"),
              "alpha": st.column_config.ProgressColumn("α_ij", min_value=0.0, max_value=1.0, format="%.4f"),
              "ratio": st.column_config.NumberColumn("α_ij·(deg_i+1)", format="%.2f×",
                                                     help="1 = uniform for the centre i; 2 = twice uniform"),
              "score": st.column_config.NumberColumn("e_ij (raw score)", format="%.3f",
                                                     help="None for the mean of heads: the mean α is "
                                                          "not a softmax of the mean e_ij."),
              "rank": st.column_config.NumberColumn("rank among neighbours"),
              "degree": st.column_config.NumberColumn("degree of j"),
              "self": st.column_config.CheckboxColumn("self-loop")}
    config.update({c: st.column_config.NumberColumn(c, format="%.3f") for c in shown.columns
                   if c.startswith("head ")})
    st.dataframe(shown, hide_index=True, column_config=config, height=min(40 + 35 * len(shown), 460))
    return frame


def dictionary_note(att, graph, center: int, layer: int, head) -> None:
    """DictionaryLookup: does this query's attention find its matching key, and how often?"""
    if getattr(graph.data, "key_of", None) is None or int(graph.data.key_of[center]) < 0:
        return
    rows = synthetic.dictionary_match(graph, att, layer, "mean" if head == "all" else head)
    me = rows.loc[center]
    test = rows[graph.data.test_mask.numpy()[rows.index]]
    key = graph.names[int(graph.data.key_of[center])]
    st.text(f"{me['name']}: α on its matching key ({key}) = {me['match']:.3f}, "
            f"{me['match'] / me['uniform']:.1f}× uniform; the largest other input gets {me['best_other']:.3f}.\n"
            f"Over the {len(test)} test queries, {ui.head_label('mean' if head == 'all' else head)} puts its "
            f"largest α on the matching key for {test['top'].mean():.1%} of them.")


def heads_verdict(att, graph, layer: int) -> None:
    """How far each head of the layer is from uniform, in one line each."""
    summary = uniformity.head_summary(att, graph.data.y.numpy())
    mine = summary[summary["layer"] == layer]
    st.caption(ui.words.graph_verdict(summary, ss.gv_trainer.config.dataset, ss.gv_trainer.config.model))
    with st.expander(t("heads.against", layer=layer + 1)):
        # one element for every head's line: each element is one more message and React render per run
        st.text("\n".join(ui.words.head_verdict(row) for row in mine.to_dict("records")))
        st.caption(t("heads.against.help"))


# While training, no timer: the progress column and the view fetch the run's newest on their
# own, outside script runs (ui.feed: a script run re-renders the whole page in the browser);
# the column's fetch that finds the run ended reruns "progress_tick" (ui.live.on_ended). While
# stepping through epochs, "progress_tick" is a timer's fragment: it grants each step. A widget
# of the explorer reruns the explorer only, so the curves are not sent again for it.
# "progress_tick" is a fragment nested in a keyed one (progress), made when it is drawn: the
# Train click reruns the keyed fragments and the sidebar's buttons alone (gv_train_keys,
# ui.sidebar._on_train), and their run starts the fetches (or the timer). The title, the
# settings and the rest of the sidebar are not sent again: on Cora, about 0.2 s less of
# Chromium's CPU per Train click (2 cores).
PROGRESS, EXPLORER, VIEW = "gv_progress", "gv_explorer", "gv_view_part"   # the fragments' keys (st.rerun(key))


@st.fragment(key=PROGRESS)
def progress() -> None:
    ui.live.settle_fragments()   # (a Train click's run: a run that ends within a moment is drawn done)
    st.fragment(run_every=ui.tick())(progress_tick)()   # (no timer when no run trains)


def progress_tick() -> None:
    """The progress column: a Train click's run, a tick of the timer while stepping through
    epochs, or the run the browser asks for once its fetch finds the run ended (ui.curves)."""
    ui.live.retime()   # (another tab's run started or ended since the timer was made)
    runner = ss.get("gv_runner")
    ends = ui.follow_training()
    if runner is not None and ss.get("gv_runner") is not runner and ui.live.follows() and ui.live.fragment_run():
        # a run that stopped while the tab was away (its fetches throttled in a hidden tab) and
        # trains on now: the view's fetches, which found it over, start again with the column's
        ui.live.rerun_fragments([PROGRESS, EXPLORER])
    curves(ss.gv_trainer)
    # The run ends before the next tick: waited for here, the curves drawn (ui.live.wait_end; the
    # view goes on fetching meanwhile); then a run of the page's fragments draws it done at once,
    # with the sidebar's buttons and the final view (ui.live.show_end); a timer stops.
    if ends:
        ui.live.wait_end()
        ui.live.show_end([PROGRESS, EXPLORER, ui.sidebar.BUTTONS])


@st.fragment(key=EXPLORER)
def explorer() -> None:
    try:
        body(time.perf_counter())
    except ui.USER_ERRORS as e:   # one line in place; the model and settings stay
        st.error(ui.plain(e))


@st.fragment(key=VIEW)
def view() -> None:
    """The view. A change that moves only the view (a node clicked, the centre, hops, edges)
    reruns this fragment alone: its view is drawn before the rest of the explorer, which
    follows once the browser has drawn it (ui.network.view_first). While the tab's run trains,
    the browser fetches the run's newest view every tick (ui.feed): no timer, no script run."""
    ss.gv_view_failed, alone = False, ss.get("gv_follow")
    try:
        payload = view_payload(ss.gv_trainer, ss.gv_graph)[0]
        live = ss.get("gv_live")
        if ss.gv_training and live is not None and live.feed is not None:   # fetched every tick (ui.feed)
            live = {"url": ui.network.live_url(live.token), "every": ui.live.tick_seconds()}
        else:
            live = None
        ui.draw_view(payload, page=EXPLORER, live=live)
    except ui.USER_ERRORS as e:   # one line in place of the view (the explorer keeps only its controls)
        if alone:   # (no view to follow: the page's run says it, without the table of the view before)
            ss.gv_follow = False
            st.rerun()
        st.error(ui.plain(e))
        ss.gv_view_failed = True


def view_first() -> None:
    """A widget's callback: the view redraws first, then the explorer."""
    ui.network.view_first(VIEW, EXPLORER)


def view_controls(graph) -> None:
    """Centre node, hops, edge encoding, edges shown (their values are already applied). The
    layer and head are chosen in the view itself: switched in the browser (gatviz.choices)."""
    ui.center_picker(graph, on_change=view_first)
    c3, c4, c5 = st.columns([1, 1.3, 1.4])
    c3.radio(t("hops"), (1, 2), key="gv_hops", horizontal=True, on_change=view_first,
             format_func=lambda h, lang=lang(): t("hops.n2" if h > 1 else "hops.n", lang, hops=h))
    c4.radio(t("edges.show"), encoding_mod.ENCODINGS, key="gv_encoding", horizontal=True, on_change=view_first,
             format_func=lambda e, lang=lang(): t(f"edges.{e}", lang), help=t("edges.show.help"))
    c5.slider(t("edges.shown"), 1, 200, key="gv_top_k", help=t("edges.shown.help"), on_change=view_first)
    ui.state.remember("gv_hops", "gv_encoding", "gv_top_k", "gv_layer", "gv_head")


def choice_labels(att) -> dict:
    """The view's layer and head controls, in the page's language."""
    return {"layer": t("layer"), "head": t("head"), "all": ui.head_label("all"), "mean": ui.head_label("mean"),
            "head_n": t("head.n", head="{head}"),
            "layer_of": [t("layer.of", layer=l + 1, layers=att.layers) for l in range(att.layers)]}


def view_payload(trainer, graph):
    """The view of the tab's centre, layer and head: (payload, centre, layer, head, att)."""
    ui.ensure_center(graph)
    center = graph.index(ss.gv_center)
    att = trainer.attention()
    layer = ui.controls.valid_layer(att)
    head, _ = ui.controls.valid_head(att, layer)
    hops, encoding, top_k, presenter, layouts = ss.gv_hops, ss.gv_encoding, ss.gv_top_k, ss.gv_presenter, ss.gv_layouts
    labels, in_lang = choice_labels(att), lang()

    def build() -> dict:   # (while a run trains, also in the thread of the browser's fetch: ui.feed)
        att = trainer.attention()   # the newest model's
        payload = with_choices(graph, att, center, layer, head, labels=labels, hops=hops, top_k=top_k,
                               layouts=layouts, encoding=encoding, presenter=presenter,
                               # before training every node would wear the "wrong" ring
                               predictions=trainer.predictions().numpy() if att.epoch else None)
        payload["file_stem"] = (f"gatviz-{safe(graph.name)}-node-{safe(graph.names[center])}-layer{layer + 1}-"
                                f"{safe(ui.head_label(head, in_lang))}-epoch{att.epoch}")   # the downloads' names
        return payload

    # A view of the same model and choices is built once (the explorer's run after its view,
    # ui.network.view_first, sends the one built for that view). While the run trains, the tab's
    # feed (ui.feed) builds one at most once a tick, for the browser's fetch and the page's runs
    # alike: a rerun never sends an older view than the browser has fetched. A view built before
    # the run started counts as built at its start: the Train click's run sends the view on
    # screen (the browser does not draw it again), the first fetch a tick later the trained one.
    view_key = (trainer, center, layer, head, hops, top_k, encoding, presenter, in_lang, layouts)
    cached = ss.get("gv_view_cache")
    runner = ss.get("gv_runner")
    if ss.gv_training and runner is not None and runner.trainer is trainer:
        live = ss.get("gv_live") or ss.setdefault("gv_live", ui.feed.Tab())   # (one token per tab)
        if live.feed is None or live.feed.key != view_key or live.feed.done is not runner.done:
            live.feed = ui.feed.Feed(view_key, build, done=runner.done, trainer=trainer,
                                     epoch=lambda: trainer.epoch, every=ui.live.tick_seconds,
                                     words=lambda p: view_words(p, in_lang),
                                     first=cached[1] if cached and cached[0] == view_key else None)
        return live.feed.view()[0], center, layer, head, att
    if ss.get("gv_live") is not None:   # (no run trains: the feed lets go of its trainer and graph)
        ss.gv_live.feed = None
    if cached and cached[0] == view_key and cached[2] == trainer.epoch:
        return cached[1], center, layer, head, att
    payload = build()
    ss.gv_view_cache = (view_key, payload, trainer.epoch)
    return payload, center, layer, head, att


def body(start: float) -> None:
    trainer, graph = ss.gv_trainer, ss.gv_graph
    # what the graph's report warns of (a node file's odd label column, say) and the run's notice,
    # here as well as in the sidebar's details: each once
    for line in dict.fromkeys([*graph.report.warnings, trainer.notice]):
        if line:
            st.warning(ui.plain(ui.words.notice(line)))
    # The view is sent before its widgets (drawn above it, in `controls`): the browser gets
    # the new view first and draws it while the rest of the page's update is on its way.
    # The widgets' values are in session state before the widgets are drawn.
    controls = st.container()
    ss.gv_follow = False   # (the view runs within this run: nothing to follow)
    view()   # (a fragment's container: updated in place, not re-mounted, at a run's start and end)
    if ss.gv_training:
        with controls:
            view_controls(graph)
        st.caption(t("view.help"))
        st.caption(t("while.training", seconds=ui.live.tick_span()))
        # The rest waits for the end: every tick's work here would be CPU the training
        # thread does not get (2 cores: a slower run).
        return
    with controls:
        view_controls(graph)
    if ss.gv_view_failed:   # its controls stay: another centre or hops may do
        return
    payload, center, layer, head, att = view_payload(trainer, graph)   # (the one done_view drew)
    hops, encoding, top_k, stem = ss.gv_hops, ss.gv_encoding, ss.gv_top_k, payload["file_stem"]
    st.caption(t("view.help"))
    dictionary_note(att, graph, center, layer, head)
    heads_verdict(att, graph, layer)
    frame = table(trainer, graph, center, layer, head)
    title = (f"gatviz {graph.name}: node {graph.names[center]}, layer {layer + 1}, {ui.head_label(head)}, "
             f"epoch {trainer.epoch}")   # standalone_html escapes it
    # callables: the files are built only when clicked (the HTML inlines ~700 KB of vis-network)
    context = exports.context(trainer, center, layer, head)

    def run_zip() -> bytes:
        return ui.runfiles.download_bytes(ss.gv_applied, trainer, ss.get("gv_run"))

    downloads = (
        ("download.csv", lambda: exports.safe_csv(frame, context).encode("utf-8"), f"{stem}.csv", "text/csv"),
        ("download.json", lambda: exports.table_json(frame, context).encode("utf-8"), f"{stem}.json",
         "application/json"),
        ("download.html", lambda: render.standalone_html(payload, title).encode("utf-8"), f"{stem}.html",
         "text/html"),
        ("download.metrics", lambda: exports.metrics_csv(trainer).encode("utf-8"), f"{stem}-metrics.csv", "text/csv"),
        ("download.run", run_zip, f"gatviz-run-{safe(graph.name)}-epoch{trainer.epoch}.zip", "application/zip"),
        ("download.bundle", lambda: exports.bundle(trainer, center, layer, head, hops=hops, top_k=top_k,
                                                   encoding=encoding, run_zip=run_zip(),
                                                   html=render.standalone_html(payload, title)),
         f"{stem}-all.zip", "application/zip"))
    for column, (label, data, name, mime) in zip(st.columns(3) + st.columns(3), downloads):
        column.download_button(t(label), data, file_name=name, mime=mime, on_click="ignore", width="stretch",
                               help=t("bundle.help") if label == "download.bundle" else None)
    st.caption(t("view.of", epoch=trainer.epoch, kb=f"{render.payload_bytes(payload) / 1000:.1f}",
                 ms=f"{1000 * (time.perf_counter() - start):.0f}"))
    ui.links.share()
    ui.links.sync_url()


# (keyed: on a narrow window the progress column goes below the view, full width: ui.frame's style)
view_column, progress_column = st.container(key="gv_explorer_columns").columns([3, 1], gap="medium")
ss.gv_train_keys = [PROGRESS, EXPLORER, ui.sidebar.BUTTONS]   # what a Train click reruns here (in this order)
# A trained model's progress ("done", the curves) goes first: a run's end is drawn before the
# explorer's rerun. An untrained one's follows the view: on a cold server the first view is
# sent before pandas is imported (the curves' data frame; ui.boot), ~0.3 s sooner.
progress_first = ss.gv_trainer.epoch > 0
if progress_first:
    with progress_column:
        progress()
# The sidebar last (its settings are applied already): a run's end ("done", the curves) and the
# view are not queued behind the sidebar's ~55 elements. Karate's 200 epochs are drawn done
# ~45 ms sooner; a cold start's first view ~0.25 s sooner (the browser builds the view before
# the sidebar's widgets). Drawn even if the explorer fails: the settings stay reachable.
try:
    with view_column:
        explorer()
finally:
    if not progress_first:
        with progress_column:
            progress()
    ui.draw_sidebar()
ui.boot.warm()   # (the first screen is drawn: what it did not need is imported meanwhile)
