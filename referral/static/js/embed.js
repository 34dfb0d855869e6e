// Inside a widget's frame: tell the page around it (only the site the widget was loaded for,
// named by data-parent-origin) how tall the widget is and what happened in it.
(function () {
  "use strict";

  var body = document.body;
  var parentOrigin = body.getAttribute("data-parent-origin");
  var content = document.getElementById("embed");

  function post(message) {
    if (parentOrigin && window.parent !== window) { window.parent.postMessage(message, parentOrigin); }
  }

  function report() {
    post({ type: "referral:resize", height: Math.ceil(content.getBoundingClientRect().height) });
  }

  report();
  if (window.ResizeObserver) { new ResizeObserver(report).observe(content); }
  window.addEventListener("load", report);
  if (body.hasAttribute("data-joined")) { post({ type: "referral:joined" }); }
  document.querySelectorAll("[data-channel]").forEach(function (link) {
    link.addEventListener("click", function () {
      post({ type: "referral:shared", channel: link.getAttribute("data-channel") });
    });
  });
})();
