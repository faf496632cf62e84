/*
 * LiveSocket: a reconnecting WebSocket client for statusmsg's live feeds (no build step).
 *
 *   const socket = new LiveSocket("/ws/bulk-process/" + id, {
 *     onMessage(message) {...},            // every JSON message the server sends
 *     onOpen({reconnected}) {...},         // after each (re)connect
 *     onStateChange(state) {...},          // "connecting" | "live" | "reconnecting" | "closed"
 *     indicator: element,                  // optional: shows the state as text
 *     pingIntervalMs: 20000,               // optional: ping, and drop a socket that stays silent
 *   });
 *   socket.start();
 *
 * After a reconnect the client does not replay anything: the server sends the current
 * snapshot on connect, so the page shows the truth again. SeqTracker is the other half of
 * that promise: a page keeps one and drops any job_update that is not newer than the one
 * it already shows (updates can arrive late, and a snapshot can overtake a live message).
 */
(function (global) {
  "use strict";

  var STATE_TEXT = {
    connecting: "connecting\u2026",
    live: "live",
    reconnecting: "reconnecting\u2026",
    closed: "offline",
  };

  function socketUrl(path) {
    if (/^wss?:\/\//.test(path)) return path;
    var scheme = global.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + global.location.host + path;
  }

  /* Delay before reconnect attempt n (0-based): exponential, capped, with "equal jitter"
   * (half fixed, half random) so a server restart is not met by every page at once, and
   * no page retries in a tight loop. */
  function backoffDelay(attempt, baseMs, capMs, random) {
    var ceiling = Math.min(capMs, baseMs * Math.pow(2, attempt));
    return ceiling / 2 + (random || Math.random)() * (ceiling / 2);
  }

  function LiveSocket(path, options) {
    options = options || {};
    this.url = socketUrl(path);
    this.onMessage = options.onMessage || function () {};
    this.onOpen = options.onOpen || function () {};
    this.onStateChange = options.onStateChange || function () {};
    this.indicator = options.indicator || null;
    this.baseDelayMs = options.baseDelayMs || 500;
    this.maxDelayMs = options.maxDelayMs || 15000;
    // Close codes after which retrying cannot help (the server refused us on purpose).
    this.fatalCodes = options.fatalCodes || [4403, 4404];
    // 4401: logged out, password changed or token deleted elsewhere: the page is stale, reload
    // it (the login page follows). 4429: too many sockets of this user: try again much later.
    this.onRevoked = options.onRevoked || function () { global.location.reload(); };
    this.busyDelayMs = options.busyDelayMs || 120000;
    this.pingIntervalMs = options.pingIntervalMs || 0;
    this.state = null;
    this.attempt = 0;
    this.everOpened = false;
    this.socket = null;
    this.timer = null;
    this.pinger = null;
    this.lastHeardAt = 0;
    this.stopped = true;
    this._onOnline = this._reconnectNow.bind(this);
  }

  LiveSocket.prototype.start = function () {
    this.stopped = false;
    global.addEventListener("online", this._onOnline);
    this._connect();
    return this;
  };

  LiveSocket.prototype.stop = function () {
    this.stopped = true;
    global.removeEventListener("online", this._onOnline);
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000, "page left");
    this._setState("closed");
  };

  LiveSocket.prototype.send = function (message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  };

  LiveSocket.prototype._connect = function () {
    var self = this;
    clearTimeout(this.timer);
    this._setState(this.everOpened ? "reconnecting" : "connecting");
    var socket;
    try {
      socket = new WebSocket(this.url);
    } catch (error) {
      this._scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = function () {
      if (socket !== self.socket) return;
      var reconnected = self.everOpened;
      self.everOpened = true;
      self.attempt = 0;
      self._setState("live");
      self._startPinging(socket);
      self.onOpen({ reconnected: reconnected });
    };
    socket.onmessage = function (event) {
      if (socket !== self.socket) return;
      self.lastHeardAt = Date.now();
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return; // not ours to interpret; the server only sends JSON
      }
      self.onMessage(message);
    };
    socket.onclose = function (event) {
      if (socket !== self.socket || self.stopped) return;
      self.socket = null;
      clearInterval(self.pinger);
      if (self.fatalCodes.indexOf(event.code) !== -1) {
        self.stopped = true;
        self._setState("closed");
        return;
      }
      if (event.code === 4401) {
        self.stopped = true;
        self._setState("closed");
        self.onRevoked();
        return;
      }
      if (event.code === 4429) {
        self._setState("reconnecting");
        self.timer = setTimeout(self._connect.bind(self), self.busyDelayMs);
        return;
      }
      self._scheduleReconnect();
    };
    // onerror is always followed by onclose, which does the work.
  };

  LiveSocket.prototype._startPinging = function (socket) {
    // A connection can die without a close frame (sleeping laptop, dropped NAT entry);
    // a socket that answers nothing for two ping intervals is dropped and reconnected.
    var self = this;
    clearInterval(this.pinger);
    if (!this.pingIntervalMs) return;
    this.lastHeardAt = Date.now();
    this.pinger = setInterval(function () {
      if (socket !== self.socket) return;
      if (Date.now() - self.lastHeardAt > 2 * self.pingIntervalMs) {
        // Forget it first: on a dead link the close handshake itself may never finish.
        clearInterval(self.pinger);
        self.socket = null;
        socket.close(4000, "no answer to ping");
        self._scheduleReconnect();
        return;
      }
      self.send({ type: "ping" });
    }, this.pingIntervalMs);
  };

  LiveSocket.prototype._scheduleReconnect = function () {
    this._setState(this.everOpened ? "reconnecting" : "connecting");
    var delay = backoffDelay(this.attempt, this.baseDelayMs, this.maxDelayMs);
    this.attempt += 1;
    this.timer = setTimeout(this._connect.bind(this), delay);
  };

  LiveSocket.prototype._reconnectNow = function () {
    // The browser says the network is back: no point in sitting out the backoff.
    if (!this.stopped && !this.socket) {
      this.attempt = 0;
      this._connect();
    }
  };

  LiveSocket.prototype._setState = function (state) {
    if (state === this.state) return;
    this.state = state;
    if (this.indicator) {
      this.indicator.textContent = STATE_TEXT[state];
      this.indicator.dataset.state = state;
    }
    this.onStateChange(state);
  };

  /* The newest seq shown per job; accept() says whether an update should be shown. */
  function SeqTracker() {
    this.seen = {};
  }

  SeqTracker.prototype.accept = function (jobId, seq) {
    if (typeof seq !== "number") return false;
    var shown = this.seen[jobId];
    if (shown !== undefined && seq <= shown) return false;
    this.seen[jobId] = seq;
    return true;
  };

  SeqTracker.prototype.shown = function (jobId) {
    return this.seen[jobId];
  };

  LiveSocket.SeqTracker = SeqTracker;
  LiveSocket.backoffDelay = backoffDelay;
  global.LiveSocket = LiveSocket;
})(window);
