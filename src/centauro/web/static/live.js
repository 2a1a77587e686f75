// The dashboard's live parts: poll /panel/live and refresh today's counts and the
// connector table in place. Text only (textContent), never HTML from the answer.
(function () {
  "use strict";
  var root = document.querySelector("[data-live]");
  if (!root) { return; }
  var url = root.getAttribute("data-live");
  var every = 5000;

  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    row.appendChild(td);
    return td;
  }

  function render(data) {
    Object.keys(data.stats).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.textContent = data.stats[id]; }
    });
    var body = document.getElementById("live-connectors");
    if (!body) { return; }
    var rows = document.createDocumentFragment();
    data.connectors.forEach(function (c) {
      var tr = document.createElement("tr");
      cell(tr, c.name); cell(tr, c.kind);
      var st = cell(tr, c.state_text, c.state === "up" ? "state-up" : "state-down");
      st.setAttribute("data-state", c.state);
      cell(tr, c.in_flight, "num"); cell(tr, c.submitted, "num"); cell(tr, c.tps, "num");
      cell(tr, c.last_error);
      rows.appendChild(tr);
    });
    if (!data.connectors.length) {
      var tr = document.createElement("tr");
      var td = cell(tr, "No hay conexiones configuradas.");
      td.colSpan = 7;
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
    root.setAttribute("data-updated", String(Date.now()));
  }

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { setTimeout(tick, every); });
  }
  setTimeout(tick, every);
}());
