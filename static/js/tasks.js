/*
 * The live task pages: /tasks/ (the user's jobs) and /tasks/<id>/ (one job).
 *
 * The server renders the current state; this script keeps it current from job_update
 * messages (each carries the task's full snapshot and its seq) and sends cancels and demo
 * jobs through the REST API. Needs live-socket.js.
 */
(function (global) {
  "use strict";

  var API = "/api/background-tasks";
  var FINAL = ["completed", "failed", "cancelled"];
  var BATCH_KEYS = ["batch_completed", "total_batches", "at"];

  function $(root, selector) {
    return root.querySelector(selector);
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function api(method, path, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!response.ok) {
            var error = new Error(errorText(data) || "HTTP " + response.status);
            error.status = response.status;
            throw error;
          }
          return data;
        });
    });
  }

  function errorText(data) {
    if (!data || typeof data !== "object") return "";
    if (data.detail) return String(data.detail);
    return Object.keys(data)
      .map(function (key) {
        return key + ": " + JSON.stringify(data[key]);
      })
      .join("; ");
  }

  function isFinished(task) {
    return FINAL.indexOf(task.status) !== -1;
  }

  function ordinal(number) {
    var tens = number % 100;
    var suffix = tens >= 10 && tens <= 20 ? "th" : { 1: "st", 2: "nd", 3: "rd" }[number % 10] || "th";
    return number + suffix;
  }

  /* A rough duration as people say it (as jobs/watching.py duration_words). */
  function durationWords(seconds) {
    seconds = Math.round(seconds);
    if (seconds < 5) return "a few seconds";
    if (seconds < 60) return seconds + " s";
    var minutes = Math.round(seconds / 60);
    if (minutes < 60) return "about " + minutes + " min";
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    return "about " + hours + " h" + (minutes ? " " + minutes + " min" : "");
  }

  /* "about 2 min left · 14 items/s", "3rd in line", or "" (as jobs/watching.py timing_words). */
  function timingText(task) {
    if (task.queue_position) return ordinal(task.queue_position) + " in line";
    if (task.status !== "running") return "";
    var parts = [];
    if (task.eta_seconds !== null && task.eta_seconds !== undefined) {
      parts.push(durationWords(task.eta_seconds) + " left");
    }
    if (task.items_per_second) {
      var rate = task.items_per_second;
      parts.push((rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)) + " items/s");
    }
    return parts.join(" \u00b7 ");
  }

  function setTime(root, field, iso) {
    var element = $(root, '[data-field="' + field + '"]');
    if (element) StatusmsgTime.fill(element, iso);
  }

  function plain(value) {
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function setText(root, field, text) {
    var element = $(root, '[data-field="' + field + '"]');
    if (element) element.textContent = text;
    return element;
  }

  /* Show one task snapshot in root (a table row or the detail page). */
  function fillTask(root, task) {
    var progress = Number(task.progress) || 0;
    var cancelling = task.status === "running" && !!task.cancel_requested_at;
    root.dataset.status = task.status;
    setText(root, "name", task.name);

    var status = setText(root, "status", cancelling ? "cancelling\u2026" : task.status);
    if (status) status.className = "status status-" + task.status + (cancelling ? " cancelling" : "");

    var bar = $(root, '[data-field="progress"]');
    if (bar) {
      bar.setAttribute("aria-valuenow", String(Math.round(progress)));
      var fill = $(bar, ".progress-fill");
      fill.style.width = progress.toFixed(2) + "%";
      fill.className = "progress-fill fill-" + task.status;
    }
    setText(root, "counts", task.processed_items + " / " + task.total_items + " \u00b7 " + Math.round(progress) + " %");

    var current = $(root, '[data-field="current_item"]');
    if (current) current.textContent = task.current_item || (current.tagName === "DD" ? "\u2014" : "");
    setText(root, "timing", timingText(task));
    setTime(root, "created_at", task.created_at);
    setTime(root, "started_at", task.started_at);
    setTime(root, "completed_at", task.completed_at);

    var cancel = $(root, '[data-action="cancel"]');
    if (cancel) {
      cancel.hidden = isFinished(task);
      cancel.disabled = cancelling;
    }
  }

  function fillDetailSections(task) {
    var errorSection = document.querySelector('[data-section="error"]');
    errorSection.hidden = !task.error;
    setText(errorSection, "error", task.error || "");

    var resultSection = document.querySelector('[data-section="result"]');
    var hasResult = task.result !== null && task.result !== undefined;
    resultSection.hidden = !hasResult;
    setText(resultSection, "result", hasResult ? JSON.stringify(task.result, null, 2) : "");

    var batches = (task.metadata && task.metadata.batches) || [];
    var list = document.querySelector('[data-field="batches"]');
    list.replaceChildren.apply(
      list,
      batches.map(function (entry) {
        var item = document.createElement("li");
        var number = document.createElement("span");
        number.className = "batch-no";
        number.textContent = "Batch " + entry.batch_completed + " / " + entry.total_batches;
        var time = document.createElement("time");
        time.dataset.format = "time";  // the time of day; the day and zone are on hover
        StatusmsgTime.fill(time, entry.at);
        var details = document.createElement("span");
        details.className = "muted";
        details.textContent = Object.keys(entry)
          .filter(function (key) {
            return BATCH_KEYS.indexOf(key) === -1;
          })
          .map(function (key) {
            return key + "=" + plain(entry[key]);
          })
          .join(" ");
        item.append(number, " ", time, " ", details);
        return item;
      })
    );
    document.querySelector('[data-empty="batches"]').hidden = batches.length > 0;
  }

  /* Ask the API to cancel; then show the row as the database has it. */
  function cancelTask(taskId, button, messageElement, show) {
    button.disabled = true;
    return api("DELETE", "/task/" + taskId)
      .then(function (answer) {
        if (messageElement) messageElement.textContent = answer.message;
      })
      .catch(function (error) {
        button.disabled = false;
        if (messageElement) messageElement.textContent = "Could not cancel: " + error.message;
      })
      .then(function () {
        // The socket brings the change too; this covers a page whose socket is away.
        return api("GET", "/task/" + taskId).then(show, function () {});
      });
  }

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  /* /tasks/<id>/: one job, from /ws/bulk-process/<id>. */
  function initDetail() {
    var root = document.getElementById("task");
    var taskId = root.dataset.taskId;
    var cancelMessage = document.querySelector("[data-cancel-message]");
    var tracker = new LiveSocket.SeqTracker();
    var initial = readJson("task-snapshot");
    tracker.accept(initial.id, initial.seq);
    fillTask(root, initial);  // the timing words and local times, which the server leaves to this script

    var chunkGrid = new ChunkGrid(taskId);

    function show(task) {
      if (!task || task.id !== taskId || !tracker.accept(task.id, task.seq)) return;
      fillTask(root, task);
      setText(document, "name", task.name);
      fillDetailSections(task);
      chunkGrid.update(task);
      if (isFinished(task)) cancelMessage.textContent = ""; // "cancel requested" is history now
    }

    var socket = new LiveSocket("/ws/bulk-process/" + encodeURIComponent(taskId), {
      indicator: document.querySelector("[data-live-state]"),
      pingIntervalMs: 20000,
      onMessage: function (message) {
        // The server sends the snapshot on every connect, so a reconnect needs no replay.
        if (message.type === "job_update" || message.type === "status_request") show(message.task);
      },
    });
    socket.start();

    var cancelButton = $(root, '[data-action="cancel"]');  // none on a chunk: it is cancelled with its group
    if (cancelButton) {
      cancelButton.addEventListener("click", function (event) {
        cancelTask(taskId, event.currentTarget, cancelMessage, show);
      });
    }
    global.statusmsgPage = { socket: socket, tracker: tracker, show: show, chunks: chunkGrid };
  }

  /* A group's page: its chunks as a grid of cells, redrawn from the REST children list when the
     group's message says its chunk counts changed (at most once a second; the socket carries the
     group only, never a message per chunk). */
  function ChunkGrid(taskId) {
    this.section = document.querySelector('[data-section="chunks"]');
    this.taskId = taskId;
    this.counts = null;
    this.timer = null;
    this.again = false;
  }

  ChunkGrid.prototype.update = function (task) {
    if (!this.section || !task.children) return;
    var counts = JSON.stringify(task.children);
    var section = this.section;
    Object.keys(task.children).forEach(function (status) {
      var count = section.querySelector('[data-chunk-count="' + status + '"]');
      if (count) count.textContent = String(task.children[status]);
    });
    if (this.counts === null) {
      this.counts = counts;  // the page was drawn with these
      return;
    }
    if (counts === this.counts) return;
    this.counts = counts;
    this.redrawSoon();
  };

  ChunkGrid.prototype.redrawSoon = function () {
    var grid = this;
    if (grid.timer) {
      grid.again = true;
      return;
    }
    grid.timer = setTimeout(function () {
      var limit = grid.section.dataset.gridLimit || "500";
      api("GET", "/task/" + encodeURIComponent(grid.taskId) + "/children?limit=" + limit)
        .then(function (page) { grid.draw(page.tasks); }, function () {})
        .then(function () {
          grid.timer = null;
          if (grid.again) {
            grid.again = false;
            grid.redrawSoon();
          }
        });
    }, 1000);
  };

  ChunkGrid.prototype.draw = function (chunks) {
    var list = this.section.querySelector('[data-field="chunks"]');
    list.replaceChildren.apply(list, chunks.map(function (chunk) {
      var item = document.createElement("li");
      var cell = document.createElement("a");
      cell.className = "chunk chunk-" + chunk.status;
      cell.href = "/tasks/" + encodeURIComponent(chunk.id) + "/";
      cell.dataset.chunkId = chunk.id;
      cell.title = "Chunk " + chunk.chunk_index + ": " + chunk.status + ", " + chunk.processed_items + " / " +
        chunk.total_items + (chunk.attempt > 1 ? ", attempt " + chunk.attempt : "");
      cell.textContent = String(chunk.chunk_index);
      item.appendChild(cell);
      return item;
    }));
  };

  /* /tasks/: the user's jobs, from /ws/tasks/ (new jobs appear as they are created). */
  function initList(options) {
    var rowsBody = document.getElementById("task-rows");
    var table = document.getElementById("task-table");
    var empty = document.getElementById("no-tasks");
    var template = document.getElementById("task-row-template");
    var pageMessage = document.querySelector("[data-page-message]");
    var tracker = new LiveSocket.SeqTracker();
    var statuses = {};
    var summaryTimer = null;

    readJson("task-snapshots").forEach(function (task) {
      tracker.accept(task.id, task.seq);
      statuses[task.id] = task.status;
      var row = rowsBody.querySelector('tr[data-task-id="' + CSS.escape(task.id) + '"]');
      if (row) fillTask(row, task);  // the timing words and local times, left to this script
    });

    function rowFor(taskId) {
      return rowsBody.querySelector('tr[data-task-id="' + CSS.escape(taskId) + '"]');
    }

    function newRow(task) {
      var row = template.content.firstElementChild.cloneNode(true);
      row.dataset.taskId = task.id;
      row.dataset.createdAt = task.created_at;
      $(row, '[data-field="link"]').href = options.detailUrl + encodeURIComponent(task.id) + "/";
      // Newest first: before the first row created earlier than this one.
      var before = Array.prototype.find.call(rowsBody.rows, function (other) {
        return new Date(other.dataset.createdAt) < new Date(task.created_at);
      });
      rowsBody.insertBefore(row, before || null);
      if (rowsBody.rows.length > options.listLimit) rowsBody.deleteRow(-1);
      table.hidden = false;
      empty.hidden = true;
      return row;
    }

    // A job the page has no row for gets one if it belongs in the newest-first window the
    // page shows (a new job always does); older ones (the feed's snapshots go further back)
    // only count in the summary.
    function belongsOnPage(task) {
      var rows = rowsBody.rows;
      if (rows.length < options.listLimit) return true;
      return new Date(task.created_at) > new Date(rows[rows.length - 1].dataset.createdAt);
    }

    function show(task) {
      if (!task || !task.id || !tracker.accept(task.id, task.seq)) return;
      var row = rowFor(task.id) || (belongsOnPage(task) ? newRow(task) : null);
      if (row) fillTask(row, task);
      if (statuses[task.id] !== task.status) {
        statuses[task.id] = task.status;
        refreshSummarySoon();
      }
    }

    function showSummary(summary) {
      if (!summary) return;
      Object.keys(summary).forEach(function (key) {
        var element = document.querySelector('[data-count="' + key + '"]');
        if (element) element.textContent = summary[key];
      });
    }

    // Counts cover every job, not only the rows shown, so they come from the database;
    // a burst of status changes costs one request.
    function refreshSummarySoon() {
      clearTimeout(summaryTimer);
      summaryTimer = setTimeout(function () {
        api("GET", "/summary").then(showSummary, function () {});
      }, 250);
    }

    var socket = new LiveSocket("/ws/tasks/", {
      indicator: document.querySelector("[data-live-state]"),
      pingIntervalMs: 20000,
      // The feed sends the user's jobs as snapshots on every connect, so the rows need no
      // replay after a reconnect; the counts are read again in case a job ended meanwhile.
      onOpen: function (info) {
        if (info.reconnected) refreshSummarySoon();
      },
      onMessage: function (message) {
        if (message.type === "job_update" || message.type === "status_request") show(message.task);
      },
    });
    socket.start();

    rowsBody.addEventListener("click", function (event) {
      var button = event.target.closest('[data-action="cancel"]');
      if (!button) return;
      cancelTask(button.closest("tr").dataset.taskId, button, pageMessage, show);
    });

    var form = document.getElementById("demo-form");
    var formMessage = $(form, "[data-form-message]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var count = parseInt(form.elements.count.value, 10);
      var button = $(form, "button");
      button.disabled = true;
      formMessage.textContent = "Starting\u2026";
      api("POST", "/bulk-save", { articles: demoArticles(count) })
        .then(function (answer) {
          formMessage.textContent = "Started a bulk save of " + count + " articles.";
          return api("GET", "/task/" + answer.task_id).then(show);
        })
        .catch(function (error) {
          formMessage.textContent = "Could not start: " + error.message;
        })
        .then(function () {
          button.disabled = false;
        });
    });
    global.statusmsgPage = { socket: socket, tracker: tracker, show: show };
  }

  /* count made-up articles with fresh urls, so each demo saves them all. */
  function demoArticles(count) {
    var run = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    var articles = [];
    for (var index = 1; index <= count; index++) {
      articles.push({
        url: "https://example.com/demo/" + run + "/" + index,
        title: "Demo article " + index,
        content: "Generated by the demo form on /tasks/.",
        source: "demo",
      });
    }
    return articles;
  }

  global.StatusmsgTasks = { initList: initList, initDetail: initDetail, fillTask: fillTask, timingText: timingText };
})(window);
