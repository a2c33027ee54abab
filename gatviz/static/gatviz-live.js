// The app's view while the tab's run trains (ui/feed.py): asks the server for the run's newest
// view every tick and draws it in place, with no script run (whose update re-renders the whole
// page) per redraw. Stops at a newer update of the page (root.__gatvizToken) or at the run's
// end ({done: true}: the page's own run then draws it done); a failed answer is asked again a tick
// later. Not part of exported views.
(function () {
  window.gatvizFollow = function (root, live, token, send) {
    var after = null;
    function later(seconds) { setTimeout(ask, 1000 * (seconds || live.every)); }
    function ask() {
      if (root.__gatvizToken !== token || !root.isConnected) return;
      fetch(live.url + (after === null ? "" : "?after=" + after), { cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (a) {
          if (a.done || root.__gatvizToken !== token) return;   // the run is over
          if (a.epoch === undefined) { later(); return; }    // not built this time: again a tick later
          var pick = root.__pending;   // a layer or head picked here that the page has not caught up with
          if (a.payload && pick && a.payload.choices) {
            a.payload.choices = Object.assign({}, a.payload.choices, { layer: pick.layer, head: pick.head });
          }
          if (a.payload) window.gatvizMount(root, a.payload, send);
          if (a.epoch !== null) after = a.epoch;
          later(a.every);
        })
        .catch(function () { later(); });
    }
    later();
  };
})();
