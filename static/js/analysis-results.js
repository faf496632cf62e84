/*
 * The task page's results block: when the task shown reaches a final state, load its results
 * (an HTML fragment rendered by the server, /analysis/<id>/results) in place of the block.
 *
 * It watches #task's data-status, which tasks.js keeps current from the socket, so it needs
 * no hook into tasks.js. Include after tasks.js on /tasks/<id>/.
 */
(function () {
  "use strict";

  var FINAL = ["completed", "failed", "cancelled"];
  var task = document.getElementById("task");
  if (!task) return;
  var loadedFor = FINAL.indexOf(task.dataset.status) !== -1 ? task.dataset.status : null;

  function load() {
    var url = "/analysis/" + encodeURIComponent(task.dataset.taskId) + "/results";
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok && !response.redirected ? response.text() : "";
      })
      .then(function (html) {
        if (!html.trim()) return;
        var holder = document.createElement("div");
        holder.innerHTML = html; // our own server's fragment, rendered with autoescape
        var fresh = holder.querySelector("#analysis-results");
        if (!fresh) return; // not the fragment (e.g. the login page after the session ended)
        var current = document.getElementById("analysis-results");
        if (current) current.replaceWith(fresh);
        else document.querySelector('[data-section="result"]').before(fresh);
      })
      .catch(function () {
        // The page still shows the raw result; a reload shows the table.
      });
  }

  new MutationObserver(function () {
    var status = task.dataset.status;
    if (FINAL.indexOf(status) !== -1 && loadedFor !== status) {
      loadedFor = status;
      load();
    }
  }).observe(task, { attributes: true, attributeFilter: ["data-status"] });
})();
