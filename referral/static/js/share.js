// Copy-to-clipboard and print buttons of the public pages. Loaded as a file (the CSP
// allows no inline script); without JavaScript the link stays selectable in its field.
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "hp";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function onCopy(event) {
    var button = event.currentTarget;
    var status = button.closest(".share") && button.closest(".share").querySelector(".copy-status");
    copy(button.getAttribute("data-copy")).then(function () {
      if (status) { status.textContent = button.getAttribute("data-copied") || "✓"; }
    }, function () {
      var field = document.getElementById("share-link");
      if (field) { field.focus(); field.select(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", onCopy);
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll(".share-link").forEach(function (field) {
      field.addEventListener("focus", function () { field.select(); });
    });
  });
})();
