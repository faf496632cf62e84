// The inbox: every read and change goes through /api/notifications (session + CSRF token).
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  var api = root.dataset.api;
  var csrfToken = root.querySelector("[name=csrfmiddlewaretoken]").value;
  var list = document.getElementById("notification-list");
  var empty = document.getElementById("inbox-empty");
  var status = document.getElementById("inbox-status");
  var unreadOnly = document.getElementById("unread-only");

  function request(method, path) {
    return fetch(api + path, {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.detail || ("HTTP " + response.status));
        return body;
      });
    });
  }

  function button(label, action) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.dataset.action = action;
    return element;
  }

  function render(rows) {
    list.textContent = "";
    rows.forEach(function (row) {
      var item = document.createElement("li");
      item.dataset.id = row.id;
      item.className = row.read ? "read" : "unread";
      var actions = document.createElement("span");
      actions.className = "actions";
      if (!row.read) actions.appendChild(button("Mark read", "mark-read"));
      actions.appendChild(button("Delete", "delete"));
      item.appendChild(actions);
      var title = document.createElement(row.link ? "a" : "span");
      title.className = "title";
      title.textContent = row.title;
      if (row.link) title.href = row.link;  // validated server-side: relative or http(s) only
      item.appendChild(title);
      var message = document.createElement("div");
      message.className = "message";
      message.textContent = row.message;
      item.appendChild(message);
      var meta = document.createElement("div");
      meta.className = "meta";
      var when = document.createElement("time");
      StatusmsgTime.fill(when, row.created_at);
      meta.append(row.type + " · ", when, row.system_wide ? " · everyone" : "");
      item.appendChild(meta);
      list.appendChild(item);
    });
    empty.hidden = rows.length > 0;
    list.setAttribute("aria-busy", "false");
  }

  function load() {
    var query = "?limit=100" + (unreadOnly.checked ? "&unread_only=true" : "");
    return request("GET", query).then(function (body) { render(body.notifications); })
      .catch(function (error) { status.textContent = "Could not load: " + error.message; });
  }

  function act(method, path, done) {
    status.textContent = "";
    return request(method, path).then(function (body) {
      if (done) status.textContent = done(body);
      return load();
    }).catch(function (error) { status.textContent = "Failed: " + error.message; });
  }

  list.addEventListener("click", function (event) {
    var action = event.target.dataset && event.target.dataset.action;
    if (!action) return;
    var id = event.target.closest("li").dataset.id;
    if (action === "mark-read") act("POST", "/" + id + "/mark-read");
    if (action === "delete") act("DELETE", "/" + id);
  });
  document.getElementById("mark-all-read").addEventListener("click", function () {
    act("POST", "/mark-all-read", function (body) { return body.count + " marked read"; });
  });
  document.getElementById("delete-read").addEventListener("click", function () {
    act("DELETE", "/read", function (body) { return body.count + " deleted"; });
  });
  unreadOnly.addEventListener("change", load);
  // A new notification, or a change made in another tab: show the inbox as it now is.
  document.addEventListener("notifications:message", function (event) {
    if (event.detail.type === "notification" || event.detail.type === "unread_count") load();
  });
  load();
})();
