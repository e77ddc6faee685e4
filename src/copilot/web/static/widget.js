/*
 * Copilot chat widget. One tag adds a launcher and a chat panel to any page:
 *
 *   <script src="https://copilot.example/static/widget.js" data-api="https://copilot.example"
 *           data-title="Ask Copilot" defer></script>
 *
 * Auth: a short-lived session token, from data-session-token (minted by the host page's backend through
 * POST /v1/auth/session) or from this tab's Copilot sign-in (same origin). Never a long-lived key.
 * The widget is the agent's front end: every turn goes to POST /v1/chat (Server-Sent Events: step* reply done) in
 * one conversation per tab (session_id). Tool steps are listed as they arrive; answers keep their numbered
 * citations; triage, KPI, equipment, stock and purchase results render as cards; a clarifying question offers its
 * options as buttons; an action waiting for approval shows who must decide and updates when someone does.
 * No innerHTML anywhere: all text is text.
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
  var input = el("textarea", {id: "cpw-input", class: "cpw-input", rows: "2", maxlength: "8000",
    "aria-label": "Your question", placeholder: "Ask about an SOP, equipment, stock, a ticket or a KPI"});
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

  var SESSION_KEY = "copilot.chat.session";
  function sessionId() { try { return window.sessionStorage.getItem(SESSION_KEY); } catch (e) { return null; } }
  function keepSession(id) { try { window.sessionStorage.setItem(SESSION_KEY, id); } catch (e) { /* private mode */ } }

  var TOOL_LABEL = {knowledge_search: "Searching the documents", equipment_status: "Looking up equipment",
    lots_expiring: "Checking expiring lots", stock_on_hand: "Checking stock", purchase_orders_open: "Checking purchase orders",
    maintenance_request_create: "Creating a maintenance request", purchase_request_create: "Creating a purchase request",
    maintenance_equipment_status_set: "Changing equipment status", ticket_triage: "Triaging the ticket",
    ticket_triage_apply: "Applying triage", kpi_query: "Computing the KPI", dashboard_summary: "Writing the summary"};
  var STATUS_LABEL = {running: "running…", ok: "done", pending_approval: "waiting for approval", denied: "refused",
    error: "failed"};
  var OPTION_LABEL = {knowledge_search: "Our documents (SOPs, policies, contracts)", kpi_query: "A KPI",
    dashboard_summary: "A dashboard summary", equipment_status: "Equipment status", lots_expiring: "Expiring lots",
    stock_on_hand: "Stock on hand", purchase_orders_open: "Open purchase orders", ticket_triage: "Triage a ticket",
    maintenance_request_create: "A maintenance request", purchase_request_create: "A purchase request",
    maintenance_equipment_status_set: "Change equipment status"};

  function stepItem(step) {
    return el("li", {class: "cpw-step cpw-step-" + step.status}, [
      el("span", {class: "cpw-step-name", text: (TOOL_LABEL[step.tool] || step.tool)}),
      el("span", {class: "cpw-step-status", text: " — " + (STATUS_LABEL[step.status] || step.status)})]);
  }

  function link(label, url) {
    var href = url ? safeHref(url) : null;
    return href ? el("a", {href: href, target: "_blank", rel: "noopener noreferrer", text: label})
      : el("span", {text: label});
  }

  function table(headers, rows) {
    return el("table", {class: "cpw-table"}, [
      el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", {scope: "col", text: h}); }))]),
      el("tbody", {}, rows.map(function (r) {
        return el("tr", {}, r.map(function (c) { return el("td", {}, [typeof c === "string" ? document.createTextNode(c) : c]); }));
      }))]);
  }

  function num(x) { return (typeof x === "number") ? x.toLocaleString() : String(x == null ? "" : x); }

  var CARDS = {
    equipment: function (d) {
      return table(["Device", "Site", "Status", "Open requests"], (d.equipment || []).map(function (e) {
        return [link(e.asset_tag || e.name, e.url), e.site || "", e.status === "in_service" ? "in service" : "out of service",
          String((e.open_requests || []).length)];
      }));
    },
    lots: function (d) {
      return table(["Lot", "Product", "Site", "Expires", "Qty"], (d.lots || []).map(function (l) {
        return [link(l.name, l.url), (l.product && l.product.name) || "", l.site || "", l.expiration_date + " (" + l.days_left + " d)",
          num(l.quantity)];
      }));
    },
    stock: function (d) {
      if (d.status === "ambiguous") {
        return el("p", {text: "Several products match: " + (d.candidates || []).map(function (c) { return c.name; }).join("; ")});
      }
      return table(["Site", "On hand"], (d.sites || []).map(function (s) { return [s.site, num(s.quantity)]; }));
    },
    purchase_orders: function (d) {
      return table(["Order", "Supplier", "Site", "Receipt"], (d.orders || []).map(function (o) {
        return [link(o.name, o.url), (o.supplier && o.supplier.name) || "", o.site || "", o.receipt_status || o.state];
      }));
    },
    triage: function (d) {
      var box = el("div", {});
      (d.suggestions || [d]).forEach(function (sug) {
        var labels = sug.labels || {};
        if (sug.ticket_id) { box.appendChild(el("p", {class: "cpw-card-title", text: "Ticket " + sug.ticket_id})); }
        if (!Object.keys(labels).length) {
          box.appendChild(el("p", {text: "No suggestion: " + (sug.message || sug.reason || "the model could not judge this ticket")}));
          return;
        }
        box.appendChild(table(["Field", "Suggestion", "Confidence"], Object.keys(labels).map(function (k) {
          var v = labels[k];
          return [k, String(v.label), Math.round((v.confidence || 0) * 100) + "%" + (v.auto ? "" : " (review)")];
        })));
      });
      return box;
    },
    kpi: function (d) {
      var name = (d.kpi && d.kpi.name) || "KPI";
      return table([name, "Where", "Value"], (d.values || []).slice(-6).map(function (v) {
        return [v.period, v.site || v.group || "network", v.value == null ? (v.reason || "no data") : num(Math.round(v.value * 1000) / 1000)];
      }));
    },
    summary: function (d) {
      var box = el("div", {}, [el("p", {text: d.text || ""})]);
      if (d.check) {
        box.appendChild(el("p", {class: "cpw-verified", text: d.check.problems && d.check.problems.length ?
          "Not verified" : "Verified: " + d.check.checked + " figures checked against the KPI table"}));
      }
      return box;
    }
  };

  function pollApproval(id, line) {
    var tries = 0;
    function once() {
      tries += 1;
      fetch(API + "/v1/approvals/" + encodeURIComponent(id), {headers: {"Authorization": "Bearer " + token()}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (a) {
          if (a && a.status && a.status !== "pending") {
            line.classList.remove("cpw-pending");
            line.classList.add("cpw-decided-" + a.status);
            line.textContent = a.status === "approved"
              ? "Approved by " + (a.decided_by || "an approver") + (a.outcome ? " — " + (a.outcome === "ok" ? "done in Odoo" : a.outcome) : "") + "."
              : "The request was " + a.status + (a.decided_by ? " by " + a.decided_by : "") + ".";
          } else if (tries < 720) { window.setTimeout(once, 5000); }
        })
        .catch(function () { if (tries < 720) { window.setTimeout(once, 15000); } });
    }
    window.setTimeout(once, 3000);
  }

  function renderReply(d, bubble, text, steps) {
    text.textContent = d.text || "";
    var answer = (d.cards || []).filter(function (c) { return c.kind === "answer"; })[0];
    if (answer && answer.data && answer.data.abstained) {
      bubble.classList.add("cpw-notfound");
      bubble.insertBefore(el("p", {class: "cpw-notfound-label", text: "Not found in the documents you can access."}), text);
    }
    (d.cards || []).forEach(function (c) {
      var draw = CARDS[c.kind];
      if (draw) { bubble.appendChild(el("div", {class: "cpw-card cpw-card-" + c.kind}, [draw(c.data || {})])); }
    });
    var cites = d.citations && d.citations.length ? d.citations : (answer && answer.data && answer.data.citations) || [];
    if (cites.length) {
      bubble.appendChild(el("h3", {class: "cpw-sources-title", text: "Sources"}));
      bubble.appendChild(el("ol", {class: "cpw-sources"}, cites.map(citationItem)));
    }
    if (d.clarify) {
      var opts = el("div", {class: "cpw-options", role: "group", "aria-label": d.clarify.question});
      (d.clarify.options || []).forEach(function (o) {
        var b = el("button", {type: "button", class: "cpw-option", text: OPTION_LABEL[o] || o});
        b.addEventListener("click", function () { opts.querySelectorAll("button").forEach(function (x) { x.disabled = true; }); ask(o, OPTION_LABEL[o] || o); });
        opts.appendChild(b);
      });
      bubble.appendChild(opts);
    }
    if (d.pending_approval) {
      var line = el("p", {class: "cpw-approval cpw-pending", "aria-live": "polite",
        text: "Waiting for approval (request " + d.pending_approval.slice(0, 8) + "). This updates when someone decides."});
      bubble.appendChild(line);
      pollApproval(d.pending_approval, line);
    }
    var searched = (d.steps || []).filter(function (s) { return s.tool === "knowledge_search" && s.status === "ok"; })[0];
    if (searched) { bubble.appendChild(feedbackBar(searched.request_id)); }
    if (!steps.childNodes.length) { steps.remove(); }
  }

  function handle(event, data, bubble, text, steps) {
    if (event === "step") {
      var running = data.status === "running" ? null : steps.querySelector(
        '.cpw-step-running[data-tool="' + String(data.tool).replace(/[^a-z_]/g, "") + '"]');
      var item = stepItem(data);
      item.setAttribute("data-tool", String(data.tool).replace(/[^a-z_]/g, ""));
      if (running) { steps.replaceChild(item, running); } else { steps.appendChild(item); }
    } else if (event === "error") {
      text.textContent = "Sorry, that could not be done (" + (data.error || "error") + ").";
      bubble.classList.add("cpw-error");
    } else if (event === "reply") {
      if (data.session_id) { keepSession(data.session_id); }
      renderReply(data, bubble, text, steps);
    } else if (event === "done") {
      bubble.setAttribute("aria-busy", "false");
    }
  }

  function ask(question, shown) {
    uid += 1;
    log.appendChild(el("p", {class: "cpw-msg cpw-user", text: shown || question}));
    var text = el("p", {class: "cpw-answer-text"});
    var steps = el("ol", {class: "cpw-steps", "aria-label": "What Copilot did"});
    var bubble = el("div", {class: "cpw-msg cpw-bot", "aria-busy": "true"}, [steps, text]);
    log.appendChild(bubble);
    send.disabled = true;
    var t = token();
    if (!t) { text.textContent = "Please sign in first."; send.disabled = false; return; }
    var body = {message: question};
    if (sessionId()) { body.session_id = sessionId(); }
    fetch(API + "/v1/chat", {method: "POST", headers: {"Content-Type": "application/json",
      "Accept": "text/event-stream", "Authorization": "Bearer " + t}, body: JSON.stringify(body)})
      .then(function (r) {
        if (!r.ok) {
          return r.json().catch(function () { return {}; }).then(function (b) {
            if (r.status === 404 && body.session_id) { try { window.sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* */ } }
            text.textContent = r.status === 401 ? "Your session has expired; please sign in again." :
              "Sorry, that could not be done (" + (b.error || r.status) + ").";
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
              handle(ev, data ? JSON.parse(data) : {}, bubble, text, steps);
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
