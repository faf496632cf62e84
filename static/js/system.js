// The staff system page: /ws/system/ sends the whole system status every few seconds; each
// message redraws the tables (a snapshot, so a reconnect needs nothing else).
(function () {
  "use strict";

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    return td;
  }

  function time(value) {
    return value ? new Date(value).toLocaleTimeString() : "—";
  }

  function fill(tableId, rows, columns, emptyText) {
    const body = document.querySelector(`#${tableId} tbody`);
    if (!body) return;
    body.replaceChildren();
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell(emptyText);
      td.colSpan = columns.length;
      tr.append(td);
      body.append(tr);
      return;
    }
    for (const row of rows) {
      const tr = document.createElement("tr");
      for (const column of columns) tr.append(column(row));
      body.append(tr);
    }
  }

  function link(task) {
    const td = document.createElement("td");
    const a = document.createElement("a");
    a.href = `/tasks/${task.id}/`;
    a.textContent = task.name;
    td.append(a);
    return td;
  }

  function draw(status) {
    const figures = { ...status.queue, ...status.throughput };
    for (const dd of document.querySelectorAll("#system-queue [data-field]")) {
      const value = figures[dd.dataset.field];
      dd.textContent = value === null || value === undefined ? "—" : String(value);
    }
    fill("system-clusters", status.clusters, [
      (c) => cell(c.name), (c) => cell(c.host), (c) => cell(c.status), (c) => cell(c.workers.length),
      (c) => cell(time(c.last_beat)),
    ], "No cluster has beaten in the last 30 s: nothing will run.");
    fill("system-running", status.running, [
      link, (t) => cell(t.kind), (t) => cell(t.owner || "system"), (t) => cell(`${Math.round(t.progress)}%`),
      (t) => cell(time(t.started_at)),
    ], "Nothing is running.");
    fill("system-processes", status.processes, [
      (p) => cell(p.kind), (p) => cell(p.host), (p) => cell(p.pid), (p) => cell(p.sockets),
      (p) => cell(Object.entries(p.sockets_by_path || {}).map(([path, n]) => `${path} ${n}`).join(", ")),
      (p) => cell(`${p.fds_used ?? "?"} / ${p.fds_limit}`), (p) => cell(p.messages_sent),
      (p) => cell(p.messages_dropped),
    ], "No process has reported in the last 20 s.");
    const updated = document.getElementById("system-updated");
    if (updated) updated.textContent = `last read ${new Date().toLocaleTimeString()}`;
  }

  new LiveSocket("/ws/system/", {
    indicator: document.querySelector("[data-live-state]"),
    onMessage: function (message) {
      if (message.type === "system_status") draw(message.status);
    },
  }).start();
})();
