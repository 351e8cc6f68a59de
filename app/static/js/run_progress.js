/* Live progress of import runs.
 *
 * Every element with `data-run-progress` (a run's row in the list, the status card of a run's
 * page) polls that JSON URL while its run is in a working status (`data-working`), and updates
 * its status badge, step, progress bar and counters. Once a run reaches a resting status the
 * page reloads once, so that the charts and reports are drawn from the finished work.
 * Served from /static (the CSP allows scripts from 'self' only; no inline code here or in the
 * pages).
 */
(function () {
  "use strict";

  var POLL_MS = 1500; // while the run moves
  var SLOWEST_MS = 10000; // a run that does not move (e.g. waiting for a worker) is asked less often
  var MAX_FOLLOWED = 5; // rows followed on the runs list; the reload refreshes the others

  function text(scope, field, value) {
    var node = scope.querySelector('[data-field="' + field + '"]');
    if (node && value !== undefined && value !== null) {
      node.textContent = String(value);
    }
    return node;
  }

  function render(scope, data) {
    var badge = text(scope, "status", data.status_label || data.status);
    if (badge) {
      badge.className = "badge badge-" + data.status;
      badge.title = data.status;
    }
    text(scope, "step", data.step_label || data.step || "—");
    text(scope, "rows_done", data.rows_done);
    text(scope, "rows_total", data.rows_total);
    text(scope, "percent", data.percent);
    var bar = scope.querySelector("progress");
    if (bar) {
      bar.max = data.rows_total || 1;
      bar.value = data.rows_done || 0;
    }
    Object.keys(data.counters || {}).forEach(function (name) {
      var cell = scope.querySelector('[data-counter="' + name + '"]');
      if (cell) {
        cell.textContent = String(data.counters[name]);
      }
    });
    var failure = scope.querySelector('[data-field="failure_reason"]');
    if (failure) {
      failure.hidden = !data.failure_reason;
      text(scope, "failure_text", data.failure_reason || "");
    }
  }

  function follow(scope) {
    var url = scope.getAttribute("data-run-progress");
    var working = (scope.getAttribute("data-working") || "").split(" ");
    var live = scope.querySelector('[data-field="live"]');
    if (working.indexOf(scope.getAttribute("data-status")) === -1) {
      return;
    }
    if (live) {
      live.hidden = false;
    }

    function stop(message) {
      if (live) {
        live.textContent = message;
      }
    }

    var delay = POLL_MS;
    var last = "";

    function poll() {
      if (document.hidden) {
        window.setTimeout(poll, POLL_MS);
        return;
      }
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (!response.ok || response.redirected || type.indexOf("application/json") === -1) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          render(scope, data);
          if (working.indexOf(data.status) === -1) {
            window.location.reload();
            return;
          }
          var seen = [data.status, data.step, data.rows_done].join("|");
          delay = seen === last ? Math.min(delay * 1.5, SLOWEST_MS) : POLL_MS;
          last = seen;
          window.setTimeout(poll, delay);
        })
        .catch(function () {
          stop("Mise à jour automatique interrompue : rechargez la page.");
        });
    }

    window.setTimeout(poll, POLL_MS);
  }

  Array.prototype.slice.call(document.querySelectorAll("[data-run-progress]"), 0, MAX_FOLLOWED).forEach(follow);
})();
