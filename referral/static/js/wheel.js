// The instant-win wheel. The server decides every play and stores it before answering;
// this script only paints the wheel and turns it to the segment the server names, then
// shows the server's own words for the outcome. Without it, the form simply posts.
(function () {
  "use strict";
  var wheel = document.querySelector("[data-wheel]");
  var form = document.querySelector("[data-play-form]");
  if (!wheel || !form || !window.fetch) return;
  var result = document.querySelector("[data-play-result]");
  var left = document.querySelector("[data-play-left]");
  var button = form.querySelector("button");
  var segments = wheel.querySelectorAll(".wheel-segment");
  var n = segments.length;
  var size = 360 / n;
  var colours = ["#ffd166", "#eef1ff", "#06d6a0", "#f4f5f9", "#ef8fa0", "#e8ecfb", "#9ec9ff", "#f1f3f8"];
  var stops = [];
  for (var i = 0; i < n; i++) {
    var colour = segments[i].classList.contains("blank") ? colours[(i % 4) * 2 + 1] : colours[(i % 4) * 2];
    stops.push(colour + " " + i * size + "deg " + (i + 1) * size + "deg");
    segments[i].style.transform = "rotate(" + (i + 0.5) * size + "deg)";
  }
  wheel.style.background = "conic-gradient(" + stops.join(", ") + ")";
  var turned = 0;
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function show(data) {
    wheel.classList.remove("spinning");
    result.textContent = data.message;
    result.classList.toggle("won", Boolean(data.won));
    if (left && data.left_text) left.textContent = data.left_text;
    button.disabled = data.plays_left <= 0;
  }

  function turnTo(segment, done) {
    // Segment i is centred (i + 0.5) * size degrees clockwise from the top pointer.
    var centre = (segment + 0.5) * size;
    var target = turned - (turned % 360) + 360 * 5 + (360 - centre);
    turned = target;
    if (reduced) {
      wheel.style.setProperty("--turn", target + "deg");
      done();
      return;
    }
    var finished = false;
    function finish() {
      if (finished) return;
      finished = true;
      done();
    }
    wheel.addEventListener("transitionend", finish, { once: true });
    window.setTimeout(finish, 4500);
    wheel.classList.add("spinning");
    wheel.style.setProperty("--turn", target + "deg");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    result.textContent = "";
    result.classList.remove("won");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (answer) {
        if (!answer.ok) {
          result.textContent = answer.data.message || "";
          return;
        }
        turnTo(answer.data.segment, function () {
          show(answer.data);
        });
      })
      .catch(function () {
        form.submit(); // the page without script still works
      });
  });
})();
