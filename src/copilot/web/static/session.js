/* Copilot pages: the signed-in user's short-lived session, kept in sessionStorage (per tab, not a cookie). */
(function () {
  "use strict";
  var KEY = "copilot.session";

  function load() {
    try {
      var s = JSON.parse(window.sessionStorage.getItem(KEY) || "null");
      if (s && s.token && s.expires_at * 1000 > Date.now() + 5000) { return s; }
    } catch (e) { /* corrupt entry: treat as signed out */ }
    return null;
  }

  function save(s) { window.sessionStorage.setItem(KEY, JSON.stringify(s)); }
  function clear() { window.sessionStorage.removeItem(KEY); }

  /* fetch with the session's bearer token; a 401 sends the user back to sign-in */
  function api(path, options) {
    var s = load();
    options = options || {};
    var headers = new Headers(options.headers || {});
    if (s) { headers.set("Authorization", "Bearer " + s.token); }
    if (options.json !== undefined) {
      headers.set("Content-Type", "application/json");
      options.body = JSON.stringify(options.json);
    }
    options.headers = headers;
    return fetch(path, options).then(function (r) {
      if (r.status === 401) { clear(); window.location.assign("/signin?next=" + encodeURIComponent(location.pathname)); }
      return r;
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (k === "class") { node.className = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function header(current) {
    var s = load();
    var bar = document.getElementById("topbar");
    if (!bar) { return; }
    var nav = el("nav", {"aria-label": "Copilot pages"}, [
      el("a", {href: "/odoo", text: "Odoo (widget demo)", "aria-current": current === "odoo" ? "page" : "false"}),
      el("a", {href: "/review", text: "Compliance & approvals", "aria-current": current === "review" ? "page" : "false"}),
      el("a", {href: "/triage", text: "Helpdesk triage", "aria-current": current === "triage" ? "page" : "false"}),
      el("a", {href: "/executive", text: "Executive dashboard", "aria-current": current === "executive" ? "page" : "false"})
    ]);
    bar.appendChild(nav);
    var who = el("span", {class: "who", id: "who"});
    if (s) {
      who.textContent = s.principal.name + " (" + s.principal.role + ")";
      var out = el("button", {type: "button", class: "link", id: "signout", text: "Sign out"});
      out.addEventListener("click", function () { clear(); window.location.assign("/signin"); });
      bar.appendChild(who);
      bar.appendChild(out);
    } else {
      bar.appendChild(el("a", {href: "/signin", text: "Sign in"}));
    }
  }

  /* "{error, detail}" from the API as one sentence; detail may be a string or FastAPI's list of problems */
  function describeError(status, body) {
    var detail = body && body.detail;
    if (Array.isArray(detail)) {
      detail = detail.map(function (d) { return d && d.msg ? d.msg : JSON.stringify(d); }).join("; ");
    }
    var code = (body && body.error) || ("HTTP " + status);
    var text = detail ? code + ": " + detail : code;
    if (status === 403) { return "Not allowed (" + text + ")."; }
    return "Request failed (" + status + " " + text + ").";
  }

  window.CopilotSession = {load: load, save: save, clear: clear, api: api, el: el, header: header,
                           describeError: describeError};
})();
