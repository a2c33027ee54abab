"""The interface's catalogue: every key in both languages, every key used exists."""
import re
import string
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import i18n

ROOT = Path(__file__).resolve().parents[1]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_both_languages_with_the_same_placeholders():
    for key, (en, zh) in i18n.CATALOGUE.items():
        assert en.strip() and zh.strip(), key
        assert fields(en) == fields(zh), key
        if key not in ("dropout",):            # a term both languages write the same way
            assert en != zh or not re.search("[A-Za-z]{4}", en), key


def test_every_key_the_interface_uses_exists():
    used = set()
    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")]:
        used |= set(re.findall(r"""\bt\(\s*f?["']([a-z0-9_.{}]+)["']""", path.read_text("utf-8")))
    literal = {k for k in used if "{" not in k}
    assert literal and literal <= set(i18n.CATALOGUE), literal - set(i18n.CATALOGUE)
    for pattern in (k for k in used if "{" in k):   # t(f"ds.{d}") and the like: every expansion exists
        prefix = pattern.split("{")[0]
        assert any(k.startswith(prefix) for k in i18n.CATALOGUE), pattern
    for name in ("karate", "cora", "citeseer", "sbm", "dictionary"):
        assert f"ds.{name}" in i18n.CATALOGUE
    for key in ("page.explorer", "page.explain", "page.compare", "edges.uniform", "edges.absolute"):
        assert key in i18n.CATALOGUE


def test_the_app_in_chinese_from_a_link():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert [b.label for b in at.sidebar.button] == ["训练", "停止", "重置"]
    assert at.title[0].value == "图注意力，实时演示"
    assert at.number_input(key="gv_heads").label == "注意力头"
    at.switch_page("pages/explain.py")
    at.run()
    assert not at.exception and at.main.header[0].value.startswith("1 · 共享线性变换")


def test_the_compare_page_in_chinese():
    from test_app import run, trained_on
    at = trained_on("pages/compare.py", {"lang": "zh"}, gv_epochs=4, gv_per_update=4)
    assert at.session_state["gv_trainer"].epoch == 4
    assert at.title[0].value == "比较：训练轮次、注意力头、层、模型、边编辑"
    assert at.radio(key="gv_cmp_section").options == [
        "训练过程", "注意力头", "层", "模型", "编辑一条边", "α 重要吗？"]
    assert at.select_slider(key="gv_cmp_epoch").label == "训练轮次"
    assert at.toggle(key="gv_cmp_play").label == "播放"
    assert at.caption[0].value.startswith("保存的快照")
    for name, seen in (("Heads", lambda: at.subheader[0].value == "各注意力头的注意力有多相似"),
                       ("Edit an edge", lambda: at.selectbox(key="gv_cmp_edit_other").label == "来自此节点的边"),
                       ("Does α matter?", lambda: any("GNNExplainer 运行了" in x.value for x in at.text))):
        run(at.radio(key="gv_cmp_section").set_value(name))
        assert seen() and not at.error, name


def test_the_views_words_match_the_script_and_have_both_languages():
    import json
    from gatviz import encoding
    script = (ROOT / "gatviz" / "static" / "gatviz-view.js").read_text("utf-8")
    english = {key: json.loads(f'"{text}"') for key, text in
               re.findall(r'\btr\("([a-z.]+)",\s*"((?:[^"\\]|\\.)*)"', script)}
    assert english and set(english) == set(i18n.VIEW_TEXT)          # every word the view says, and no more
    for key, (en, zh) in i18n.VIEW_TEXT.items():
        assert en == english[key], key                              # the catalogue's English is the script's
        assert fields(en) == fields(zh) and en != zh, key
    for name in encoding.ENCODINGS:                                 # every legend's English is translated
        legend = encoding.legend(name)
        assert legend["title"] in i18n.LEGEND_TEXT
        assert all(i["label"] in i18n.LEGEND_TEXT or not re.search("[a-z]", i["label"]) for i in legend["items"])


def test_the_view_speaks_chinese():
    from test_app import view
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    payload = view(at)
    assert payload["text"]["wrong"] == "预测错误" and payload["text"]["head"] == "头 {h}"
    assert payload["legend"]["title"].startswith("边：α 相对于均匀值")
    assert "均匀" in [i["label"] for i in payload["legend"]["items"]]
    english = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    english.run()
    assert "text" not in view(english) and view(english)["legend"]["title"].startswith("edge: α relative")
