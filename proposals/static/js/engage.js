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

  document.addEventListener("change", function (evt) {
    var select = evt.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) return;
    var form = select.form;
    if (!form) return;
    // requestSubmit fires the submit event (so htmx and data-confirm see
    // it) and runs validation; form.submit() would bypass both.
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
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
