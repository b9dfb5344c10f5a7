/*
 * editor.js: autosave for a section (no dependencies, CSP-safe).
 *
 * Nothing typed is lost: every keystroke is kept in localStorage until the
 * server acknowledges a save that contains it; each save names the revision
 * it was based on, so the server can merge with other people's saves; when
 * the server cannot be reached the page says so and keeps retrying.
 */
(function () {
  "use strict";
  var form = document.querySelector("form[data-editor]");
  if (!form || form.hasAttribute("data-live-on")) return; // the live editor took over
  var area = form.querySelector("textarea[name=text]");
  var baseInput = form.querySelector("input[name=base]");
  var statusEl = form.querySelector("[data-status]");
  var countEl = form.querySelector("[data-count]");
  var overEl = form.querySelector("[data-over]");
  var restoreButton = form.querySelector("[data-restore-button]");
  var preview = document.querySelector("[data-preview]");
  var limit = parseInt(form.getAttribute("data-limit") || "0", 10);
  var storageKey = "engage:draft:" + form.getAttribute("data-key");
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var PAUSE = 1200;
  var timer = null, inFlight = false, again = false, retryDelay = 2000, paused = false;

  function say(kind, extra) {
    statusEl.textContent = (statusEl.getAttribute("data-" + kind) || "") + (extra ? " " + extra : "");
    statusEl.setAttribute("data-state", kind);
  }

  // Counted like the server does (markup marks removed), corrected by each save's answer.
  function plainLength(text) {
    var plain = text
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/^\s*(?:[-*+]|\d+[.)])\s+/gm, "")
      .replace(/(\*\*|__|\*|_|`)/g, "")
      .replace(/\n{2,}/g, "\n")
      .replace(/^\n+|\n+$/g, "");
    return Array.from(plain.normalize("NFC")).length;
  }

  function showCount(n) {
    countEl.textContent = n.toLocaleString(document.documentElement.lang || undefined);
    if (overEl) overEl.hidden = !(limit && n > limit);
  }

  function keepLocally() {
    try {
      localStorage.setItem(storageKey, JSON.stringify({ base: baseInput.value, text: area.value }));
    } catch (e) { /* storage full or disabled: the server save still runs */ }
  }

  function forgetLocally(text) {
    try {
      var kept = JSON.parse(localStorage.getItem(storageKey) || "null");
      if (kept && kept.text === text) localStorage.removeItem(storageKey);
    } catch (e) { /* nothing to forget */ }
  }

  function schedule() {
    if (paused) return;
    clearTimeout(timer);
    timer = setTimeout(send, PAUSE);
  }

  function send() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    var sent = area.value;
    var body = new URLSearchParams();
    body.set("csrf_token", token);
    body.set("base", baseInput.value);
    body.set("text", sent);
    if (preview) body.set("preview", "1");  // the server renders it only when asked
    say("saving");
    fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRF-Token": token },
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (reply) {
      inFlight = false;
      retryDelay = 2000;
      var data = reply.data;
      if (data.kind === "busy") {  // nothing stored; the text is still in localStorage
        setTimeout(send, 500 + Math.random() * 1000);
        return;
      }
      if (!reply.ok) { say("refused", data.message || ""); return; }
      if (data.kind === "conflict") {
        paused = true;  // the writer resolves it; autosave must not overwrite the other text
        baseInput.value = data.number;
        say("conflict");
        showConflict(data.text);
        return;
      }
      if (data.kind === "merge") {
        if (area.value === sent) {
          area.value = data.text;
          baseInput.value = data.number;
        } else {
          again = true;  // typed meanwhile: merge again from the old base
        }
        say("merged");
      } else {
        baseInput.value = data.number;
        say("saved");
      }
      if (newerEl && data.kind !== "unchanged") newerEl.hidden = true;
      forgetLocally(sent);
      showCount(data.count);
      if (preview && area.value === data.text && data.preview !== undefined) preview.innerHTML = data.preview;
      if (again || area.value !== sent) { again = false; schedule(); }
    }).catch(function () {
      inFlight = false;
      say("offline");
      setTimeout(send, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  function showConflict(theirs) {
    var panel = document.getElementById("conflict-panel");
    if (!panel) {
      panel = document.createElement("section");
      panel.id = "conflict-panel";
      panel.className = "card conflict";
      var heading = document.createElement("h2");
      heading.textContent = statusEl.getAttribute("data-conflict-title") || "";
      var pre = document.createElement("pre");
      pre.className = "theirs";
      var useTheirs = document.createElement("button");
      useTheirs.type = "button";
      useTheirs.className = "secondary";
      useTheirs.textContent = statusEl.getAttribute("data-use-theirs") || "";
      var keepMine = document.createElement("button");
      keepMine.type = "button";
      keepMine.textContent = statusEl.getAttribute("data-resolved") || "";
      useTheirs.addEventListener("click", function () {
        area.value = panel.querySelector("pre").textContent;
        resolve();
      });
      keepMine.addEventListener("click", resolve);
      panel.append(heading, pre, keepMine, useTheirs);
      form.after(panel);
    }
    panel.querySelector("pre").textContent = theirs;
  }

  function resolve() {
    var panel = document.getElementById("conflict-panel");
    if (panel) panel.remove();
    paused = false;
    keepLocally();
    send();
  }

  area.addEventListener("input", function () {
    keepLocally();
    showCount(plainLength(area.value));
    schedule();
  });

  // The plain "Save" button posts the form: the text is marked as sent, so once
  // the server has a newer revision than the one it was typed on (that save, or a
  // Restore from the history since), it is not offered back as unsaved.
  form.addEventListener("submit", function () {
    try {
      localStorage.setItem(
        storageKey,
        JSON.stringify({ base: baseInput.value, text: area.value, sent: true })
      );
    } catch (e) { /* storage full or disabled */ }
  });

  // Text typed earlier in this browser that never reached the server.
  try {
    var kept = JSON.parse(localStorage.getItem(storageKey) || "null");
    if (kept && kept.sent && parseInt(baseInput.value, 10) > parseInt(kept.base, 10)) {
      localStorage.removeItem(storageKey);
      kept = null;
    }
    if (kept && typeof kept.text === "string" && kept.text !== area.value) {
      say("restore");
      restoreButton.hidden = false;
      restoreButton.addEventListener("click", function () {
        area.value = kept.text;
        baseInput.value = kept.base;  // merged against what happened since
        restoreButton.hidden = true;
        showCount(plainLength(area.value));
        send();
      });
    }
  } catch (e) { /* unreadable storage: nothing to offer */ }

  // Live: who else is here, and whether a newer version exists (server-sent events).
  var presenceEl = document.querySelector("[data-presence]");
  var newerEl = document.querySelector("[data-newer]");
  var eventsUrl = form.getAttribute("data-events");
  if (eventsUrl && window.EventSource) {
    var source = new EventSource(eventsUrl);
    source.addEventListener("presence", function (event) {
      var people = JSON.parse(event.data || "[]");
      presenceEl.textContent = people.map(function (p) {
        var template = presenceEl.getAttribute(p.editing ? "data-editing" : "data-viewing");
        return template.replace("%(name)s", p.name);
      }).join(" · ");
    });
    source.addEventListener("saved", function (event) {
      var saved = JSON.parse(event.data || "{}");
      if (saved.number > parseInt(baseInput.value, 10)) {
        newerEl.textContent = newerEl.getAttribute("data-template").replace("%(name)s", saved.by || "");
        newerEl.hidden = false;
      }
    });
  }

  // Closing the tab mid-save: the browser asks first (the text is in localStorage anyway).
  window.addEventListener("beforeunload", function (event) {
    if (inFlight) event.preventDefault();
  });
})();
