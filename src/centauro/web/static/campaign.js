/* Centauro panel: a campaign's live progress. Polls the page's progress URL (JSON) every
   second and updates the bar and the counters; stops when the campaign is done or
   cancelled, and reloads the page when its state changes (the buttons depend on it). */
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  var stateCell = document.getElementById("state");
  var shownState = stateCell ? stateCell.getAttribute("data-state") : "";
  var fields = ["percent", "delivered", "failed", "pending", "cancelled"];
  var format = new Intl.NumberFormat("es-VE");
  var polls = 0;

  function apply(data) {
    fields.forEach(function (name) {
      var el = document.getElementById(name);
      if (el) { el.textContent = name === "percent" ? data[name] : format.format(data[name]); }
    });
    var bar = document.getElementById("bar");
    if (bar) { bar.value = data.percent; bar.textContent = data.percent + " %"; }
    if (data.state !== shownState) { window.location.reload(); return false; }
    // A campaign is "done" once every message left; receipts keep coming after that,
    // so the page polls until none is pending.
    return (data.state !== "done" && data.state !== "cancelled") || data.pending > 0;
  }

  function poll() {
    polls += 1;
    if (polls > 86400) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data === null || apply(data)) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  if (shownState !== "cancelled") { window.setTimeout(poll, 1000); }
}());
