// gatviz network component (Streamlit components v2): mounts a render.view payload.
// The big scripts (vis-network, static/gatviz-view.js) are loaded once per page from
// /app/static; this module is sent with every rerun, so it stays small.
//
// A payload with `choices` (gatviz/choices.py) carries every layer's panels: the layer and
// head selectors above the view (gatviz-view.js) redraw in the browser at once, then tell
// the page ("pick"), whose update brings the same data back and is not drawn again.
function addCss(href) {
  if (document.querySelector('link[data-gatviz="' + href + '"]')) return;
  const link = document.createElement("link");
  link.rel = "stylesheet"; link.href = href; link.dataset.gatviz = href;
  document.head.appendChild(link);
}
function addScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src; s.onload = resolve;
    s.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(s);
  });
}
// The big scripts come from /app/static once per page load, never with a rerun.
function assets(a) {
  let p = window.__gatvizAssets;
  if (!p || p.key !== a.key) {
    a.css.forEach(addCss);
    p = a.js.reduce((prev, src) => prev.then(() => addScript(src)), Promise.resolve());
    p.key = a.key;
    p.catch(() => { window.__gatvizAssets = null; });
    window.__gatvizAssets = p;
  }
  return p;
}
// The Explorer's progress column (ui/curves.py; static/gatviz-curves.js), fetched while training
function curves(data, parentElement, setTriggerValue) {
  let root = parentElement.querySelector(".gatviz-curves-root");
  if (!root) {
    root = document.createElement("div");
    root.className = "gatviz-curves-root";
    parentElement.appendChild(root);
  }
  const token = {};
  root.__gatvizToken = token;
  assets(data.assets).then(() => {
    if (root.__gatvizToken !== token) return;
    window.gatvizCurves(root, data.curves);
    if (data.live) window.gatvizCurvesFollow(root, data.live, token, () => setTriggerValue("ended", Date.now()));
  }).catch((err) => { root.textContent = "The curves could not load: " + err.message; });
}
export default function ({ data: [data], parentElement, setTriggerValue }) {   // (a list: ui/network.py)
  if (data.curves) return curves(data, parentElement, setTriggerValue);
  if (!data.payload) {   // the page's skeleton: load the scripts while the server imports torch
    assets(data.assets).catch(() => {});
    return;
  }
  let root = parentElement.querySelector(".gatviz-root");
  if (!root) {
    root = document.createElement("div");
    root.className = "gatviz-root";
    parentElement.appendChild(root);
    // the wheel scrolls the page; Ctrl/Cmd + wheel zooms the network
    root.addEventListener("wheel", (e) => { if (!e.ctrlKey && !e.metaKey) e.stopPropagation(); },
                          { capture: true });
  }
  const token = {};
  root.__gatvizToken = token;
  assets(data.assets).then(() => {
    if (root.__gatvizToken !== token) return;   // a newer payload came meanwhile
    const send = (name, value) => setTriggerValue(name, value);
    const drew = window.gatvizMount(root, data.payload, send);
    if (data.live) window.gatvizFollow(root, data.live, token, send);   // (static/gatviz-live.js)
    // A view that ran alone (a click, a new centre or hops): the page around it follows once
    // this view is drawn (ui/network.py, view_first), one "shown" per such run.
    if (data.follow && root.__followed !== data.follow) {
      root.__followed = data.follow;
      const tell = () => setTriggerValue("shown", data.follow);
      if (drew) window.gatvizWhenDrawn(root.__gatvizNetworks, tell); else tell();
    }
  }).catch((err) => { root.textContent = "The network view could not load: " + err.message; });
  return () => {
    // Streamlit may call this on an update as well as on removal: only a removed view is let go
    setTimeout(() => {
      if (!root.isConnected) { (root.__gatvizNetworks || []).forEach((n) => n.destroy()); root.__gatvizNetworks = []; }
    }, 0);
  };
}
