/*
 * /analysis/new: count the URLs as they are typed, and keep a second click from starting a
 * second analysis while the first POST is on its way. The form works without this script.
 */
(function () {
  "use strict";

  var form = document.getElementById("analysis-form");
  if (!form) return;
  var textarea = form.elements.urls;
  var counter = form.querySelector("[data-url-count]");
  var message = form.querySelector("[data-form-message]");

  function countUrls() {
    var lines = textarea.value.split(/\r?\n/).filter(function (line) {
      return line.trim() !== "";
    });
    counter.textContent = lines.length ? lines.length + (lines.length === 1 ? " URL" : " URLs") : "";
  }

  if (textarea && counter) {
    textarea.addEventListener("input", countUrls);
    countUrls();
  }

  form.addEventListener("submit", function () {
    var button = form.querySelector('button[type="submit"]');
    // Disabled after this tick, so the browser still sends the form.
    setTimeout(function () {
      button.disabled = true;
    }, 0);
    if (message) message.textContent = "Starting\u2026";
  });
})();
