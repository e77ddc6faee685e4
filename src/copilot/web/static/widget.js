/*
 * Copilot chat widget. One tag adds a launcher and a chat panel to any page:
 *
 *   <script src="https://copilot.example/static/widget.js" data-api="https://copilot.example"
 *           data-title="Ask Copilot" defer></script>
 *
 * Auth: a short-lived session token, from data-session-token (minted by the host page's backend through
 * POST /v1/auth/session) or from this tab's Copilot sign-in (same origin). Never a long-lived key.
 * Answers stream as Server-Sent Events (sentence*, citations, done). No innerHTML anywhere: all text is text.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var API = ((script && script.getAttribute("data-api")) || new URL(script.src).origin).replace(/\/$/, "");
  var TITLE = (script && script.getAttribute("data-title")) || "Ask Copilot";
  var attrToken = script && script.getAttribute("data-session-token");
  var uid = 0;

  function token() {
    if (attrToken) { return attrToken; }
    try {
      var s = JSON.parse(window.sessionStorage.getItem("copilot.session") || "null");
      if (s && s.token && s.expires_at * 1000 > Date.now()) { return s.token; }
    } catch (e) { /* signed out */ }
    return null;
  }

  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { n.textContent = attrs[k]; } else if (k === "class") { n.className = attrs[k]; }
      else { n.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { n.appendChild(c); } });
    return n;
  }

  function safeHref(url) {
    try {
      var u = new URL(url, window.location.href);
      return (u.protocol === "http:" || u.protocol === "https:") ? u.href : null;
    } catch (e) { return null; }
  }

  var css = el("link", {rel: "stylesheet", href: API + "/static/widget.css"});
  document.head.appendChild(css);

  var root = el("div", {class: "cpw-root", id: "copilot-widget"});
  var launcher = el("button", {type: "button", class: "cpw-launcher", id: "cpw-launcher",
    "aria-expanded": "false", "aria-controls": "cpw-panel", text: TITLE});
  var log = el("div", {class: "cpw-log", id: "cpw-log", role: "log", "aria-live": "polite",
    "aria-label": "Conversation"});
  var input = el("textarea", {id: "cpw-input", class: "cpw-input", rows: "2", maxlength: "2000",
    "aria-label": "Your question", placeholder: "Ask about an SOP, contract or maintenance log"});
  var send = el("button", {type: "submit", class: "cpw-send", id: "cpw-send", text: "Ask"});
  var form = el("form", {class: "cpw-form", id: "cpw-form"}, [input, send]);
  var close = el("button", {type: "button", class: "cpw-close", "aria-label": "Close chat", text: "×"});
  var panel = el("section", {class: "cpw-panel", id: "cpw-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "cpw-title", hidden: ""}, [
    el("header", {class: "cpw-head"}, [el("h2", {id: "cpw-title", text: TITLE}), close]),
    log, form
  ]);
  root.appendChild(panel);
  root.appendChild(launcher);

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (!token() && !log.querySelector(".cpw-signin")) {
      var next = encodeURIComponent(window.location.pathname);
      log.appendChild(el("p", {class: "cpw-msg cpw-signin"}, [
        document.createTextNode("Sign in to ask questions: "),
        el("a", {href: API + "/signin?next=" + next, text: "sign in"})]));
    }
    input.focus();
  }
  function shut() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { shut(); } });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { shut(); } });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });

  function citationItem(c) {
    var where = [c.section, c.page ? "p. " + c.page : ""].filter(Boolean).join(" · ");
    var href = safeHref(c.source);
    var label = "[" + c.n + "] " + c.title;
    var link = href ? el("a", {href: href, target: "_blank", rel: "noopener noreferrer", class: "cpw-cite-link",
      text: label}) : el("span", {class: "cpw-cite-link", text: label});
    var item = el("li", {class: "cpw-cite", id: "cpw-cite-" + uid + "-" + c.n}, [link]);
    if (where) { item.appendChild(el("span", {class: "cpw-cite-where", text: " — " + where})); }
    if (c.quote) { item.appendChild(el("blockquote", {class: "cpw-quote", text: c.quote})); }
    return item;
  }

  function feedbackBar(requestId) {
    var bar = el("div", {class: "cpw-feedback", role: "group", "aria-label": "Was this helpful?"});
    var status = el("span", {class: "cpw-feedback-status", "aria-live": "polite"});
    [["up", "Helpful", "Helpful"], ["down", "Not helpful", "Not helpful"]].forEach(function (f) {
      var b = el("button", {type: "button", class: "cpw-thumb cpw-thumb-" + f[0], "aria-label": f[1],
        "aria-pressed": "false", text: f[2]});
      b.addEventListener("click", function () {
        fetch(API + "/v1/feedback", {method: "POST", headers: {"Content-Type": "application/json",
          "Authorization": "Bearer " + token()}, body: JSON.stringify({request_id: requestId, rating: f[0]})})
          .then(function (r) {
            if (r.ok) {
              bar.querySelectorAll(".cpw-thumb").forEach(function (x) { x.setAttribute("aria-pressed", "false"); x.disabled = true; });
              b.setAttribute("aria-pressed", "true");
              status.textContent = "Thanks — feedback recorded.";
            } else { status.textContent = "Feedback could not be saved."; }
          });
      });
      bar.appendChild(b);
    });
    bar.appendChild(status);
    return bar;
  }

  function handle(event, data, bubble, text) {
    if (event === "sentence") {
      text.textContent += (text.textContent ? " " : "") + data.text;
    } else if (event === "citations") {
      if (data.abstained) {
        bubble.classList.add("cpw-notfound");
        bubble.insertBefore(el("p", {class: "cpw-notfound-label", text: "Not found in the documents you can access."}), text);
      }
      if (data.citations.length) {
        bubble.appendChild(el("h3", {class: "cpw-sources-title", text: "Sources"}));
        bubble.appendChild(el("ol", {class: "cpw-sources"}, data.citations.map(citationItem)));
      }
      bubble.appendChild(feedbackBar(data.request_id));
    } else if (event === "done") {
      bubble.setAttribute("aria-busy", "false");
    }
  }

  function ask(question) {
    uid += 1;
    log.appendChild(el("p", {class: "cpw-msg cpw-user", text: question}));
    var text = el("p", {class: "cpw-answer-text"});
    var bubble = el("div", {class: "cpw-msg cpw-bot", "aria-busy": "true"}, [text]);
    log.appendChild(bubble);
    send.disabled = true;
    var t = token();
    if (!t) { text.textContent = "Please sign in first."; send.disabled = false; return; }
    fetch(API + "/v1/ask", {method: "POST", headers: {"Content-Type": "application/json",
      "Accept": "text/event-stream", "Authorization": "Bearer " + t}, body: JSON.stringify({question: question})})
      .then(function (r) {
        if (!r.ok) {
          return r.json().catch(function () { return {}; }).then(function (b) {
            text.textContent = r.status === 401 ? "Your session has expired; please sign in again." :
              "Sorry, the question could not be answered (" + (b.error || r.status) + ").";
            bubble.classList.add("cpw-error");
          });
        }
        var reader = r.body.getReader();
        var decoder = new TextDecoder();
        var buf = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) { return; }
            buf += decoder.decode(chunk.value, {stream: true});
            var frames = buf.split("\n\n");
            buf = frames.pop();
            frames.forEach(function (frame) {
              var ev = "message", data = "";
              frame.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) { ev = line.slice(7); }
                else if (line.indexOf("data: ") === 0) { data += line.slice(6); }
              });
              handle(ev, data ? JSON.parse(data) : {}, bubble, text);
            });
            log.scrollTop = log.scrollHeight;
            return pump();
          });
        }
        return pump();
      })
      .catch(function () { text.textContent = "The Copilot server could not be reached."; })
      .then(function () { send.disabled = false; bubble.setAttribute("aria-busy", "false"); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    if (!q) { return; }
    input.value = "";
    ask(q);
  });

  function mount() { document.body.appendChild(root); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
