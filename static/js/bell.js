// The live unread badge: keeps #unread-count in step with /ws/notifications/.
// The server renders the first count; the socket corrects it on connect and keeps it live.
// Every message is re-dispatched on document as "notifications:message" for pages (the inbox).
// Reconnecting (backoff, jitter, "network is back") is LiveSocket's job (live-socket.js).
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  var badge = document.getElementById("unread-count");
  if (!bell || !badge || !window.LiveSocket) return;

  function show(count) {
    badge.textContent = count > 0 ? String(count) : "";
    bell.dataset.count = String(count);
    bell.title = count > 0 ? count + " unread notifications" : "Notifications";
  }

  new LiveSocket(bell.dataset.wsPath || "/ws/notifications/", {
    baseDelayMs: 1000,
    maxDelayMs: 30000,
    onStateChange: function (state) {
      bell.dataset.live = state === "live" ? "true" : "false";
    },
    onMessage: function (message) {
      if (message.type === "unread_count") show(message.count);
      else if (message.type === "notification") show(message.unread_count);
      document.dispatchEvent(new CustomEvent("notifications:message", { detail: message }));
    },
  }).start();
})();
