// Tollgate console: the little the server-rendered pages need from script. Everything works without it but the
// copy buttons and the live refresh of in-flight requests.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 2000); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  function poll(section) {
    var url = section.getAttribute("data-live-url");
    var state = section.querySelector(".live-state");
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (r.status === 401) { window.location.reload(); throw new Error("signed out"); }
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(function (live) {
          live.models.forEach(function (m) {
            var cell = section.querySelector('[data-live-model="' + CSS.escape(m.model) + '"]');
            if (cell && cell.textContent !== String(m.in_flight)) cell.textContent = String(m.in_flight);
          });
          (live.users || []).forEach(function (u) {
            u.windows.forEach(function (w) {
              var key = CSS.escape(u.user_id + "|" + w.rule);
              var used = section.querySelector('[data-live-window="' + key + '"]');
              if (used && used.textContent !== String(w.used)) used.textContent = String(w.used);
              var reset = section.querySelector('[data-live-reset="' + key + '"]');
              if (reset) reset.textContent = w.reset_at.replace("T", " ").replace(/(\.\d+)?(Z|\+00:00)$/, " UTC");
            });
          });
          if (state) state.textContent = "Updated " + new Date(live.at).toLocaleTimeString() + ".";
        })
        .catch(function (e) { if (state) state.textContent = "Not updated (" + e.message + ")."; })
        .finally(function () { setTimeout(tick, 1000); });
    };
    setTimeout(tick, 1000);
  }
  document.querySelectorAll("[data-live-url]").forEach(poll);
})();
