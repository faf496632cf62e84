// The live unread badge: keeps #unread-count in step with /ws/notifications/.
// The server renders the first count; the socket corrects it on connect and keeps it live.
// Every message is re-dispatched on document as "notifications:message" for pages (the inbox).
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  var badge = document.getElementById("unread-count");
  if (!bell || !badge || !window.WebSocket) return;

  var MIN_DELAY = 1000, MAX_DELAY = 30000;
  var delay = MIN_DELAY;
  var leaving = false;

  function show(count) {
    badge.textContent = count > 0 ? String(count) : "";
    bell.dataset.count = String(count);
    bell.title = count > 0 ? count + " unread notifications" : "Notifications";
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + (bell.dataset.wsPath || "/ws/notifications/"));
    socket.onopen = function () {
      delay = MIN_DELAY;
      bell.dataset.live = "true";
    };
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (err) { return; }
      if (message.type === "unread_count") show(message.count);
      else if (message.type === "notification") show(message.unread_count);
      document.dispatchEvent(new CustomEvent("notifications:message", { detail: message }));
    };
    socket.onclose = function () {
      bell.dataset.live = "false";
      if (leaving) return;
      // Exponential backoff with jitter, so a restarted server is not hit by every tab at once.
      var wait = delay / 2 + Math.random() * delay / 2;
      delay = Math.min(delay * 2, MAX_DELAY);
      window.setTimeout(connect, wait);
    };
  }

  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { leaving = false; connect(); }  // back from the bfcache: reconnect
  });
  connect();
})();
