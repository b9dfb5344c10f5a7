/*
 * engage.js: the only first-party script in Engage. Load with `defer`
 * after vendor/htmx/htmx.min.js. No dependencies, no eval, no inline
 * handlers, so it works under a strict Content-Security-Policy.
 *
 * htmx 4 facts this file relies on (checked against the vendored
 * htmx.org 4.0.1 source, dist/htmx.js; see vendor/htmx/NOTES.md):
 *
 * - Request headers are added in the "htmx:config:request" event, which
 *   is cancelable and fires once per request, after values are collected
 *   and before the body is encoded and fetch() runs. The headers object
 *   is evt.detail.ctx.request.headers. (htmx 2 used "htmx:configRequest"
 *   with evt.detail.headers; htmx 4 does not dispatch that name unless the
 *   htmx-2-compat extension is loaded, which re-fires it with the same
 *   {ctx} detail. Both names and both detail shapes are handled below.)
 * - If htmx.config.metaCharacter is set, htmx replaces ":" in its event
 *   names with that character, so the event name is derived at runtime.
 * - Strict CSP: htmx injects indicator CSS via a constructed stylesheet
 *   unless <meta name="htmx-config" content='{"includeIndicatorCSS":false}'>
 *   is set; engage.css supplies the .htmx-indicator rules instead.
 *   htmx only calls Function/AsyncFunction (needs 'unsafe-eval') for
 *   hx-on:*, "js:"/"javascript:" values (hx-vals, hx-headers,
 *   hx-confirm, request URLs) and hx-trigger [filters]; Engage uses none.
 * - 4xx/5xx responses ARE swapped by default in htmx 4 (only 204 and 304
 *   are not, config.noSwap); "htmx:response:error" fires for >= 400.
 */
(function () {
  "use strict";

  // Set as early as possible so CSS can hide the no-JS fallbacks
  // (e.g. the language switcher's submit button) only when this script runs.
  document.documentElement.classList.add("js");

  function csrfToken() {
    // Read on every request rather than caching: a swapped page or a
    // re-rendered head may carry a rotated token.
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function isSameOrigin(url) {
    // Never leak the token to another origin, even though htmx 4 defaults
    // to fetch mode "same-origin".
    try {
      return new URL(url || "", document.baseURI).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  function addCsrfHeader(evt) {
    var d = evt.detail || {};
    // htmx 4 shape first, then the htmx 2 / compat-extension shape.
    var req = d.ctx && d.ctx.request;
    var headers = req ? req.headers : d.headers;
    var url = req ? req.action : d.path;
    var token = csrfToken();
    if (!headers || !token || !isSameOrigin(url)) return;
    headers["X-CSRF-Token"] = token;
  }

  var mc = (window.htmx && window.htmx.config && window.htmx.config.metaCharacter) || ":";
  document.addEventListener("htmx" + mc + "config" + mc + "request", addCsrfHeader);
  document.addEventListener("htmx:configRequest", addCsrfHeader);

  // Capture phase on document runs before htmx's own submit listener on the
  // form, so a declined confirmation stops both a normal and an htmx submit.
  document.addEventListener(
    "submit",
    function (evt) {
      var form = evt.target;
      if (!(form instanceof HTMLFormElement)) return;
      var message = form.getAttribute("data-confirm");
      if (message === null) return;
      if (!window.confirm(message)) {
        evt.preventDefault();
        evt.stopPropagation();
      }
    },
    true
  );

  function submitOf(form) {
    // requestSubmit fires the submit event (so htmx and data-confirm see
    // it) and runs validation; form.submit() would bypass both.
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  // A choice made with the mouse (or touch) applies at once. Arrow keys only
  // move through the options (WCAG 3.2.2: no change of context on input):
  // Enter applies the choice, or the form's button, shown once it changed.
  var keyed = null;
  document.addEventListener(
    "keydown",
    function (evt) {
      var select = evt.target;
      if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) return;
      if (evt.key === "Enter" && select.form && select.hasAttribute("data-changed")) {
        evt.preventDefault();
        submitOf(select.form);
        return;
      }
      keyed = select;
    },
    true
  );
  document.addEventListener("change", function (evt) {
    var select = evt.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) return;
    var form = select.form;
    if (!form) return;
    if (keyed === select) {
      keyed = null;
      select.setAttribute("data-changed", "");
      form.classList.add("changed");
      return;
    }
    submitOf(form);
  });

  // A file field with data-max-bytes refuses a larger file before it is sent
  // (the server refuses it too, with the same words, for browsers without JS).
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
    var max = Number(input.getAttribute("data-max-bytes") || 0);
    if (!max) return;
    var tooLarge = Array.prototype.some.call(input.files || [], function (file) {
      return file.size > max;
    });
    input.setCustomValidity(tooLarge ? input.getAttribute("data-too-large") || "" : "");
    if (tooLarge) input.reportValidity();
  });
})();

/*
 * The bell in the header: the unread count arrives live over server-sent
 * events (one stream per page; the server fans out across app processes).
 */
(function () {
  "use strict";
  var bell = document.querySelector("[data-bell]");
  if (!bell || typeof window.EventSource !== "function") return;
  var badge = bell.querySelector("[data-unread]");
  var count = bell.querySelector("[data-count]");
  var source = new EventSource(bell.getAttribute("data-bell"));
  source.addEventListener("unread", function (evt) {
    var n = 0;
    try {
      n = JSON.parse(evt.data).count || 0;
    } catch (e) {
      return;
    }
    count.textContent = String(n);
    badge.hidden = n === 0;
  });
  // Leaving the page closes the stream at once, so connections are not held open.
  window.addEventListener("pagehide", function () {
    source.close();
  });
})();

/*
 * Wide tables scroll inside a labelled region the keyboard can reach: each
 * table.data is wrapped once in <div class="table-scroll" role="region">
 * named after its caption or the heading above it; the region takes a tab
 * stop (tabindex=0) only while it really scrolls (checked on resize and
 * after every htmx swap). Without this script the table itself scrolls.
 */
(function () {
  "use strict";

  function nameOf(table) {
    if (table.caption) return table.caption.textContent.trim();
    if (table.getAttribute("aria-label")) return table.getAttribute("aria-label");
    var el = table.previousElementSibling;
    while (el && !/^H[1-6]$/.test(el.tagName)) el = el.previousElementSibling;
    if (!el) {
      var scope = table.closest("section, details, form");
      el = scope && scope.querySelector("h1, h2, h3, h4, summary, legend");
    }
    return el ? el.textContent.replace(/\s+/g, " ").trim() : document.title;
  }

  function wrap(root) {
    var tables = (root || document).querySelectorAll("table.data");
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      if (table.parentElement.classList.contains("table-scroll")) continue;
      var box = document.createElement("div");
      box.className = "table-scroll";
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", nameOf(table));
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
    }
    update();
  }

  function update() {
    var boxes = document.querySelectorAll(".table-scroll");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.scrollWidth > box.clientWidth || box.scrollHeight > box.clientHeight) {
        box.setAttribute("tabindex", "0");
      } else {
        box.removeAttribute("tabindex");
      }
    }
  }

  window.addEventListener("resize", update);
  document.addEventListener("htmx:after:swap", function () {
    wrap(document);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      wrap(document);
    });
  } else {
    wrap(document);
  }
})();

/*
 * Focus after an htmx update: the swapped region replaces the form the user
 * was on, so focus would fall back to the top of the page. Before the request
 * we note the control (its id, or its name and form's action); after the
 * swap focus goes to the first field the server marked invalid in that form,
 * else to the same control, else to the form's data-focus-after target (for
 * a form that is gone, e.g. a saved line), else to the form's first control.
 */
(function () {
  "use strict";
  var last = null;

  document.addEventListener(
    "submit",
    function (evt) {
      var form = evt.target;
      if (!(form instanceof HTMLFormElement)) return;
      var active = evt.submitter || document.activeElement;
      last = {
        id: active && active.id,
        name: active && active.name,
        action: form.getAttribute("action"),
        after: form.getAttribute("data-focus-after"),
      };
    },
    true
  );

  function formByAction(action) {
    var forms = document.querySelectorAll("form[action]");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute("action") === action) return forms[i];
    }
    return null;
  }

  function focusable(el) {
    return el && !el.disabled && el.getClientRects().length > 0;
  }

  document.addEventListener("htmx:after:swap", function () {
    var was = last;
    last = null;
    if (!was) return;
    var form = was.action ? formByAction(was.action) : null;
    var target = null;
    if (form) {
      target = form.querySelector('[aria-invalid="true"]');
      if (!focusable(target) && was.id) target = document.getElementById(was.id);
      if (!focusable(target) && was.name) target = form.querySelector('[name="' + CSS.escape(was.name) + '"]');
      if (!focusable(target)) target = form.querySelector("input:not([type=hidden]), select, textarea, button");
    } else if (was.after) {
      target = document.querySelector(was.after);
    }
    if (focusable(target)) target.focus();
  });
})();

/* The Menu button of the header on narrow screens (see engage.css). */
(function () {
  "use strict";
  var button = document.querySelector("header.site .menu-toggle");
  if (!button) return;
  var header = button.closest("header.site");
  button.addEventListener("click", function () {
    var open = !header.classList.contains("menu-open");
    header.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape" && header.classList.contains("menu-open")) {
      header.classList.remove("menu-open");
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });
})();

/*
 * A form sent back with errors (a full page): focus goes to its error summary,
 * which names each problem and links to the field, instead of the page top.
 */
(function () {
  "use strict";
  function focusSummary() {
    var summary = document.querySelector("main .error-summary[tabindex]");
    if (summary && !document.activeElement.closest("main form")) summary.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusSummary);
  } else {
    focusSummary();
  }
})();
