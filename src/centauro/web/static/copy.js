/* Centauro panel: "Copiar" buttons next to values shown once (client_id, secrets, links).
   Without JavaScript the value is still selectable with one click (CSS user-select). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) { return; }
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = "Copiado";
        });
      });
    });
  });
}());
