// The import page while the worker imports a file: ask how far it got every second, move
// the progress bar, and show the page again (with the result) once it is done or failed.
(function () {
  "use strict";
  var card = document.getElementById("import-state");
  if (!card) { return; }
  var bar = document.getElementById("import-progress");
  var status = card.querySelector("[data-testid=import-status]");
  var url = card.getAttribute("data-progress-url");

  function look() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { window.setTimeout(look, 3000); return; }
        if (bar) { bar.max = state.rows; bar.value = state.done; bar.textContent = state.done + " / " + state.rows; }
        if (status) { status.textContent = state.label; }
        if (state.status === "done" || state.status === "failed") { window.location.reload(); return; }
        window.setTimeout(look, 1000);
      })
      .catch(function () { window.setTimeout(look, 3000); });
  }
  window.setTimeout(look, 1000);
})();
