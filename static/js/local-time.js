/*
 * One date format on every page: the reader's local time as "2026-11-30 20:46:06" (dates
 * alone as "2026-11-30"), with the time zone on hover. The server renders each moment as
 * <time datetime="ISO"> with a UTC fallback text; this script rewrites the text, and live
 * pages call StatusmsgTime.fill(element, iso) or StatusmsgTime.format(iso) for new values.
 */
(function (global) {
  "use strict";

  var DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

  function pad(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function parse(iso) {
    if (!iso) return null;
    var date = new Date(iso);
    return isNaN(date.getTime()) ? null : date;
  }

  /* "2026-11-30 20:46:06" in local time ("date": the day alone, "time": the time alone); "—" for nothing. */
  function format(iso, part) {
    var date = parse(iso);
    if (!date) return "\u2014";
    var day = date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
    var time = pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
    if (part === "date") return day;
    if (part === "time") return time;
    return day + " " + time;
  }

  /* What the hover says: the moment with its zone, and in UTC. */
  function zoneText(iso) {
    var date = parse(iso);
    if (!date) return "";
    var zone = "";
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(date);
      zone = (parts.find(function (part) { return part.type === "timeZoneName"; }) || {}).value || "";
    } catch (error) { /* an old browser: the offset below still says it */ }
    var offset = -date.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    var utcOffset = "UTC" + sign + pad(Math.floor(Math.abs(offset) / 60)) + ":" + pad(Math.abs(offset) % 60);
    return format(iso) + " " + (zone && zone !== utcOffset ? zone + " (" + utcOffset + ")" : utcOffset) +
      " \u00b7 " + date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  /* Show iso in a <time> element (or clear it to "—"); data-format="date" or "time" shows that part alone. */
  function fill(element, iso) {
    if (!element) return;
    if (!parse(iso)) {
      element.removeAttribute("datetime");
      element.removeAttribute("title");
      element.textContent = element.dataset.empty || "\u2014";
      return;
    }
    element.setAttribute("datetime", iso);
    element.textContent = format(iso, element.dataset.format);
    element.title = zoneText(iso);
  }

  /* Rewrite every <time datetime> under root; a fallback text of a date alone stays a date. */
  function fillAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("time[datetime]"), function (element) {
      var iso = element.getAttribute("datetime");
      if (!parse(iso)) return;  // an empty value: the server's "never" or "—" stays
      if (!element.dataset.format && DATE_ONLY.test(element.textContent.trim())) element.dataset.format = "date";
      fill(element, iso);
    });
  }

  global.StatusmsgTime = { format: format, zoneText: zoneText, fill: fill, fillAll: fillAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { fillAll(document); });
  } else {
    fillAll(document);
  }
})(window);
