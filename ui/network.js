// gatviz network component (Streamlit components v2): mounts a render.view payload.
// The big scripts (vis-network, static/gatviz-view.js) are loaded once per page from
// /app/static; this module is sent with every rerun, so it stays small.
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
export default function ({ data, parentElement, setTriggerValue }) {
  let root = parentElement.querySelector(".gatviz-root");
  if (!root) {
    root = document.createElement("div");
    root.className = "gatviz-root";
    parentElement.appendChild(root);
  }
  if (!root.__gatvizWheel) {   // the wheel scrolls the page; Ctrl/Cmd + wheel zooms the network
    root.addEventListener("wheel", (e) => { if (!e.ctrlKey && !e.metaKey) e.stopPropagation(); },
                          { capture: true });
    root.__gatvizWheel = true;
  }
  const token = {};
  root.__gatvizToken = token;
  assets(data.assets).then(() => {
    if (root.__gatvizToken !== token) return;   // a newer payload came meanwhile
    (root.__gatvizNetworks || []).forEach((n) => n.destroy());
    root.__gatvizNetworks = window.gatvizRender(root, data.payload,
      (id, name) => setTriggerValue("click", name));
    root.dataset.center = String(data.payload.center);
    // views drawn on this page, counted when vis-network has drawn every panel (tests and
    // the felt-speed benchmark wait on it)
    window.gatvizWhenDrawn(root.__gatvizNetworks, () => {
      if (root.__gatvizToken === token) window.__gatvizDrawn = (window.__gatvizDrawn || 0) + 1;
    });
  }).catch((err) => { root.textContent = "The network view could not load: " + err.message; });
  return () => { (root.__gatvizNetworks || []).forEach((n) => n.destroy()); root.__gatvizNetworks = []; };
}
