/* referral widget v1: <div data-referral-widget="join|share|me|leaderboard"
   data-campaign="<slug>" [data-token="<embed token>"]> becomes a framed widget of the service
   this file is served by. The frame gets the page's ?ref= and utm_* parameters; it reports its
   height and what happened in it (referral:joined, referral:shared) by postMessage, which is
   believed only from the service's origin and from that very frame. This file never changes:
   sites pin it with integrity="sha384-..."; a new version is a new file. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src || !window.URL || !window.URLSearchParams) { return; }
  var service = new URL(script.src).origin;
  var KINDS = ["join", "share", "me", "leaderboard"];
  var PASSED = /^(ref|ch|utm_source|utm_medium|utm_campaign|utm_term|utm_content)$/;
  // allow-scripts: the frame reports its height; allow-forms: the join form;
  // allow-same-origin: the frame keeps the service's origin, which its form and the origin
  // check of its messages need; allow-popups: share buttons open the chosen app in a tab.
  var SANDBOX = "allow-scripts allow-forms allow-same-origin allow-popups";
  var MAX_HEIGHT = 5000;
  var mounted = [];

  function address(box, kind) {
    var slug = box.getAttribute("data-campaign") || "";
    var url = new URL("/embed/" + encodeURIComponent(slug) + "/" + kind, service);
    new URLSearchParams(window.location.search).forEach(function (value, name) {
      if (PASSED.test(name)) { url.searchParams.set(name, value.slice(0, 200)); }
    });
    url.searchParams.set("origin", window.location.origin);
    var token = box.getAttribute("data-token");
    if (token) { url.searchParams.set("token", token); }
    var lang = box.getAttribute("data-lang");
    if (lang) { url.searchParams.set("lang", lang); }
    return url.href;
  }

  function mount(box) {
    var kind = box.getAttribute("data-referral-widget");
    if (box.hasAttribute("data-referral-mounted") || KINDS.indexOf(kind) < 0) { return; }
    var frame = document.createElement("iframe");
    frame.setAttribute("sandbox", SANDBOX);
    frame.setAttribute("allow", "clipboard-write");
    frame.setAttribute("title", box.getAttribute("data-title") || "referral: " + kind);
    frame.style.cssText = "display:block;width:100%;height:320px;border:0;overflow:hidden";
    frame.src = address(box, kind);
    box.setAttribute("data-referral-mounted", "");
    box.appendChild(frame);
    mounted.push({ box: box, frame: frame, kind: kind });
  }

  function mountAll() {
    var boxes = document.querySelectorAll("[data-referral-widget]");
    for (var i = 0; i < boxes.length; i++) { mount(boxes[i]); }
  }

  function onMessage(event) {
    if (event.origin !== service) { return; }
    var data = event.data;
    if (!data || typeof data.type !== "string") { return; }
    for (var i = 0; i < mounted.length; i++) {
      var item = mounted[i];
      if (event.source !== item.frame.contentWindow) { continue; }
      if (data.type === "referral:resize") {
        var height = Math.ceil(Number(data.height));
        if (height > 0) { item.frame.style.height = Math.min(height, MAX_HEIGHT) + "px"; }
      } else if (data.type === "referral:joined" || data.type === "referral:shared") {
        var detail = { campaign: item.box.getAttribute("data-campaign"), kind: item.kind };
        if (typeof data.channel === "string") { detail.channel = data.channel.slice(0, 32); }
        item.box.dispatchEvent(new CustomEvent(data.type, { bubbles: true, detail: detail }));
      }
      return;
    }
  }

  window.addEventListener("message", onMessage);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
