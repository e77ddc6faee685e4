/* Helpdesk triage queue: suggestions (category, team, priority) with confidence, alternatives and similar
   resolved tickets; Accept / Change / Reject per ticket; a backlog pass with its progress. Data from /v1 only. */
(function () {
  "use strict";
  var S = window.CopilotSession;
  var STATUSES = [["suggested", "Suggested"], ["failed", "Failed"], ["applied", "Applied"], ["rejected", "Rejected"],
    ["agrees", "Agrees"], ["no_suggestion", "No suggestion"], ["all", "All"]];
  var OPEN = {suggested: true, failed: true};  /* the statuses an agent may still decide */
  var PRIORITY = {"0": "Low", "1": "Medium", "2": "High", "3": "Urgent"};
  var TARGETS = [["category", "Category"], ["team", "Team"], ["priority", "Priority"]];
  var POLL_MS = 500;
  var state = {status: "suggested", card: null, polling: false};

  function $(id) { return document.getElementById(id); }

  document.addEventListener("DOMContentLoaded", function () {
    S.header("triage");
    if (!S.load()) { window.location.assign("/signin?next=/triage"); return; }
    buildTabs();
    $("backlog-start").addEventListener("click", startBacklog);
    $("queue-refresh").addEventListener("click", function () { load(); });
    loadCard().then(load);
  });

  // -- messages -------------------------------------------------------------------------------------------------

  var describe = S.describeError;

  function showError(text) { $("triage-error").textContent = text; }

  /* a failed response: its JSON error in the page's message area, and the text for the caller */
  function failed(r) {
    return r.json().catch(function () { return {}; }).then(function (b) {
      var text = describe(r.status, b);
      showError(text);
      return text;
    });
  }

  function network() { showError("The server could not be reached."); }

  // -- tabs -----------------------------------------------------------------------------------------------------

  function buildTabs() {
    var bar = $("status-tabs");
    STATUSES.forEach(function (s) {
      var b = S.el("button", {type: "button", role: "tab", id: "tab-" + s[0], "aria-controls": "queue-panel",
        "data-status": s[0], "aria-selected": s[0] === state.status ? "true" : "false"}, [
        S.el("span", {text: s[1] + " "}), S.el("span", {class: "count", id: "count-" + s[0], text: "(…)"})
      ]);
      b.tabIndex = s[0] === state.status ? 0 : -1;
      b.addEventListener("click", function () { select(s[0]); });
      bar.appendChild(b);
    });
    bar.addEventListener("keydown", function (ev) {
      if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") { return; }
      var names = STATUSES.map(function (s) { return s[0]; });
      var i = names.indexOf(state.status) + (ev.key === "ArrowRight" ? 1 : -1);
      var next = names[(i + names.length) % names.length];
      select(next);
      $("tab-" + next).focus();
    });
    $("queue-panel").setAttribute("aria-labelledby", "tab-" + state.status);
  }

  function select(name) {
    state.status = name;
    STATUSES.forEach(function (s) {
      var tab = $("tab-" + s[0]);
      tab.setAttribute("aria-selected", s[0] === name ? "true" : "false");
      tab.tabIndex = s[0] === name ? 0 : -1;
    });
    $("queue-panel").setAttribute("aria-labelledby", "tab-" + name);
    load();
  }

  function showCounts(counts) {
    var all = 0;
    Object.keys(counts || {}).forEach(function (k) { all += counts[k]; });
    STATUSES.forEach(function (s) {
      var n = s[0] === "all" ? all : (counts[s[0]] || 0);
      $("count-" + s[0]).textContent = "(" + n + ")";
    });
  }

  // -- the queue ------------------------------------------------------------------------------------------------

  function load() {
    showError("");
    var q = new URLSearchParams({status: state.status, limit: "200"});
    return S.api("/v1/triage/queue?" + q.toString()).then(function (r) {
      if (!r.ok) {
        return failed(r).then(function () { $("queue-count").textContent = "The queue could not be loaded."; });
      }
      return r.json().then(function (data) {
        showCounts(data.counts);
        $("model-info").textContent = data.model_version ? "Model " + data.model_version +
          (state.card ? " · trained on " + state.card.tickets + " tickets" : "") : "No triage model is trained yet.";
        render(data.items);
        var job = data.job || {};
        if ((job.state === "running" || job.state === "training") && !state.polling) { poll(); }
      });
    }, network);
  }

  /* only the counts, after a decision (the decided row stays in view with its outcome) */
  function refreshCounts() {
    S.api("/v1/triage/queue?status=all&limit=1").then(function (r) {
      if (r.ok) { r.json().then(function (d) { showCounts(d.counts); }); }
    });
  }

  /* the model card fills the change dropdowns; without one (no model yet, or no access) they fall back to the
     labels each item shows, and the queue's own request reports the error */
  function loadCard() {
    return S.api("/v1/triage/model").then(function (r) {
      if (!r.ok) { return; }
      return r.json().then(function (card) { state.card = card; });
    }).catch(function () { /* the queue request that follows reports it */ });
  }

  function render(items) {
    var body = $("queue-rows");
    body.textContent = "";
    var label = STATUSES.filter(function (s) { return s[0] === state.status; })[0][1].toLowerCase();
    $("queue-count").textContent = items.length ? items.length + " ticket(s) — " + label :
      "No tickets here (" + label + ").";
    items.forEach(function (it) { body.appendChild(row(it)); });
  }

  function words(target, value) {
    if (value === undefined || value === null || value === "") { return "—"; }
    return target === "priority" ? (PRIORITY[value] || value) : value;
  }

  function pct(x) { return Math.round(x * 100) + "%"; }

  /* High / Medium / Low bands for people; the auto-apply decision itself uses each class's own threshold */
  function level(c) { return c >= 0.85 ? "High" : c >= 0.6 ? "Medium" : "Low"; }

  function badge(cls, text) { return S.el("span", {class: "badge " + cls, text: text}); }

  function row(it) {
    var s = it.suggestion || {};
    var labels = s.labels || {};
    var tr = S.el("tr", {"data-item": it.id, "data-ticket": String(it.ticket_id), "data-status": it.status});
    tr.appendChild(ticketCell(it, s));
    tr.appendChild(suggestionCell(labels, s));
    tr.appendChild(confidenceCell(s));
    tr.appendChild(alternativesCell(labels));
    tr.appendChild(similarCell(s.similar || []));
    tr.appendChild(decisionCell(it, labels));
    return tr;
  }

  function ticketCell(it, s) {
    var ref = "#" + it.ticket_id;
    var head = it.link ? S.el("a", {href: it.link, target: "_blank", rel: "noopener", class: "ticket-link",
      text: ref, "aria-label": "Open ticket " + it.ticket_id + " in Odoo"}) : S.el("span", {text: ref});
    var badges = S.el("div", {class: "badges"});
    if (s.urgent) { badges.appendChild(badge("badge-urgent", "Urgent")); }
    var terms = s.critical_terms || [];
    var rule = ((s.labels || {}).priority || {}).rule;
    if (terms.length || rule === "critical_equipment") {
      badges.appendChild(badge("badge-critical", "Critical equipment" + (terms.length ? ": " + terms.join(", ") : "")));
    }
    if (s.auto) { badges.appendChild(badge("badge-auto", "Would auto-apply")); }
    if (s.reason) { badges.appendChild(badge("badge-muted", "No suggestion: " + s.reason.replace(/_/g, " "))); }
    if (state.status === "all" || !OPEN[it.status]) { badges.appendChild(badge("badge-status", it.status.replace(/_/g, " "))); }
    var cur = it.current || {};
    var now = "Now: " + [cur.ticket_type_id, cur.team_id, words("priority", cur.priority)]
      .map(function (v) { return v || "—"; }).join(" · ");
    return S.el("td", {class: "ticket"}, [
      S.el("div", {class: "ticket-head"}, [head, S.el("strong", {text: " " + it.subject})]),
      badges,
      S.el("div", {class: "muted", text: now}),
      S.el("details", {class: "ticket-text"}, [S.el("summary", {text: "Ticket text"}), S.el("p", {text: it.text})])
    ]);
  }

  function suggestionCell(labels, s) {
    var dl = S.el("dl", {class: "labels"});
    TARGETS.forEach(function (t) {
      var l = labels[t[0]];
      if (!l) { return; }
      var note = l.derived_from ? " (follows the " + l.derived_from + ")" :
        l.confidence !== undefined ? " " + pct(l.confidence) : "";
      if (l.rule === "critical_equipment") { note += " · critical-equipment rule"; }
      dl.appendChild(S.el("dt", {text: t[1]}));
      dl.appendChild(S.el("dd", {"data-target": t[0]}, [S.el("span", {class: "label-value", text: words(t[0], l.label)}),
        S.el("small", {class: "muted", text: note})]));
    });
    return S.el("td", {class: "suggestion"}, dl.childNodes.length ? [dl] :
      [S.el("span", {class: "muted", text: s.reason ? "No suggestion (" + s.reason.replace(/_/g, " ") + ")" : "—"})]);
  }

  function confidenceCell(s) {
    if (typeof s.confidence !== "number") { return S.el("td", {text: "—"}); }
    var lvl = level(s.confidence);
    var fill = S.el("span", {class: "conf-fill conf-" + lvl.toLowerCase()});
    fill.style.width = pct(Math.max(0, Math.min(1, s.confidence)));
    return S.el("td", {class: "confidence"}, [
      S.el("span", {class: "conf-text", text: lvl + " " + s.confidence.toFixed(2)}),
      S.el("span", {class: "conf-bar", role: "img", "aria-label": "Confidence " + pct(s.confidence)}, [fill])
    ]);
  }

  function alternativesCell(labels) {
    var td = S.el("td", {class: "alternatives"});
    ["category", "priority"].forEach(function (t) {
      var alts = ((labels[t] || {}).alternatives || []).slice(0, 3);
      if (!alts.length) { return; }
      td.appendChild(S.el("div", {class: "muted", text: t === "category" ? "Category" : "Priority"}));
      td.appendChild(S.el("ol", {class: "alts", "data-target": t}, alts.map(function (a) {
        return S.el("li", {text: words(t, a.label) + " " + pct(a.confidence)});
      })));
    });
    return td;
  }

  function similarCell(similar) {
    if (!similar.length) { return S.el("td", {class: "muted", text: "—"}); }
    return S.el("td", {class: "similar"}, [S.el("ul", {}, similar.map(function (x) {
      var text = "#" + x.ticket_id + " " + x.subject;
      var a = x.link ? S.el("a", {href: x.link, target: "_blank", rel: "noopener", text: text}) : S.el("span", {text: text});
      return S.el("li", {}, [a, S.el("small", {class: "muted",
        text: " " + (x.category || "?") + " · " + pct(x.similarity) + " similar"})]);
    }))]);
  }

  // -- decisions ------------------------------------------------------------------------------------------------

  function decisionCell(it, labels) {
    var td = S.el("td", {class: "decision"});
    var msg = S.el("p", {class: "decision-status", role: "status"});
    if (!OPEN[it.status]) {
      var fin = it.final || {};
      td.appendChild(S.el("span", {text: it.status.replace(/_/g, " ") + (it.decided_by ? " by " + it.decided_by : "")}));
      if (it.final) {
        td.appendChild(S.el("div", {class: "muted", text: [fin.ticket_type_id, fin.team_id, words("priority", fin.priority)]
          .map(function (v) { return v || "—"; }).join(" · ")}));
      }
      return td;
    }
    var who = "ticket " + it.ticket_id;
    var buttons = S.el("div", {class: "buttons"});
    var accept = S.el("button", {type: "button", class: "approve", text: "Accept", "aria-label": "Accept the suggestion for " + who});
    var change = S.el("button", {type: "button", class: "change", text: "Change", "aria-label": "Change the labels for " + who,
      "aria-expanded": "false"});
    var reject = S.el("button", {type: "button", class: "reject", text: "Reject", "aria-label": "Reject the suggestion for " + who});
    [accept, change, reject].forEach(function (b) { buttons.appendChild(b); });
    var form = changeForm(it, labels);
    form.hidden = true;

    function send(action, payload, done) {
      var all = td.querySelectorAll("button, select, input");
      all.forEach(function (x) { x.disabled = true; });
      msg.className = "decision-status"; msg.textContent = "Saving…";
      var json = Object.assign({action: action}, payload || {});
      S.api("/v1/triage/items/" + encodeURIComponent(it.id) + "/decision", {method: "POST", json: json})
        .then(function (r) {
          if (!r.ok) {
            return failed(r).then(function (text) {
              msg.className = "bad decision-status"; msg.textContent = text;
              all.forEach(function (x) { x.disabled = false; });
            });
          }
          return r.json().then(function (body) {
            var ok = !body.error && (body.status === "applied" || body.status === "ok" || body.status === "rejected");
            if (!ok) {
              var text = "Not applied to ticket #" + it.ticket_id + " (" + (body.error || body.status) + ").";
              showError(text);
              msg.className = "bad decision-status"; msg.textContent = text;
              all.forEach(function (x) { x.disabled = false; });
              refreshCounts();
              return;
            }
            msg.className = "ok decision-status";
            msg.textContent = done(body);
            form.hidden = true;
            change.setAttribute("aria-expanded", "false");
            var tr = td.parentNode;
            tr.setAttribute("data-status", action === "reject" ? "rejected" : "applied");
            tr.classList.add("decided");
            refreshCounts();
          });
        }, function () {
          network();
          msg.className = "bad decision-status"; msg.textContent = "The server could not be reached.";
          all.forEach(function (x) { x.disabled = false; });
        });
    }

    function appliedText(verb) {
      return function (body) {
        var noted = body.result && body.result.message_id ? " — note posted in the Odoo chatter" : "";
        return verb + ": ticket #" + it.ticket_id + " updated" + noted + ".";
      };
    }

    accept.addEventListener("click", function () { send("accept", {}, appliedText("Accepted")); });
    reject.addEventListener("click", function () {
      send("reject", {}, function () { return "Rejected: the ticket's labels stay as they are."; });
    });
    change.addEventListener("click", function () {
      form.hidden = !form.hidden;
      change.setAttribute("aria-expanded", form.hidden ? "false" : "true");
      if (!form.hidden) { form.querySelector("select").focus(); }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var chosen = {};
      TARGETS.forEach(function (t) {
        var sel = form.querySelector('select[name="' + t[0] + '"]');
        if (sel && sel.value) { chosen[t[0]] = sel.value; }
      });
      send("change", {labels: chosen, reason: form.querySelector("input[name=reason]").value}, appliedText("Changed"));
    });
    form.querySelector(".cancel").addEventListener("click", function () {
      form.hidden = true; change.setAttribute("aria-expanded", "false"); change.focus();
    });
    td.appendChild(buttons);
    td.appendChild(form);
    td.appendChild(msg);
    return td;
  }

  /* options for a target: the model card's classes, else what this item shows (suggestion, alternatives, now) */
  function options(target, it, labels) {
    var card = state.card || {};
    var seen = [];
    function add(v) { if (v && seen.indexOf(v) < 0) { seen.push(v); } }
    if (target === "team") {
      var map = ((card.derived || {}).team || {}).map || {};
      Object.keys(map).forEach(function (k) { add(map[k]); });
      seen.sort();
    } else {
      (((card.targets || {})[target] || {}).classes || []).forEach(add);
    }
    var l = labels[target] || {};
    add(l.label);
    (l.alternatives || []).forEach(function (a) { add(a.label); });
    var field = {category: "ticket_type_id", team: "team_id", priority: "priority"}[target];
    add((it.current || {})[field]);
    return seen;
  }

  function changeForm(it, labels) {
    var form = S.el("form", {class: "change-form", "aria-label": "Change the labels for ticket " + it.ticket_id});
    var teamMap = (((state.card || {}).derived || {}).team || {}).map || {};
    var teamTouched = false;
    TARGETS.forEach(function (t) {
      var id = "chg-" + t[0] + "-" + it.id;
      var sel = S.el("select", {id: id, name: t[0]});
      options(t[0], it, labels).forEach(function (v) {
        var o = S.el("option", {value: v, text: words(t[0], v)});
        if ((labels[t[0]] || {}).label === v) { o.selected = true; }
        sel.appendChild(o);
      });
      form.appendChild(S.el("div", {}, [S.el("label", {for: id, text: t[1]}), sel]));
    });
    var cat = form.querySelector('select[name="category"]');
    var team = form.querySelector('select[name="team"]');
    team.addEventListener("change", function () { teamTouched = true; });
    cat.addEventListener("change", function () {  /* the team follows the category unless the agent chose one */
      if (!teamTouched && teamMap[cat.value]) { team.value = teamMap[cat.value]; }
    });
    var rid = "chg-reason-" + it.id;
    form.appendChild(S.el("div", {}, [S.el("label", {for: rid, text: "Reason (optional)"}),
      S.el("input", {id: rid, name: "reason", maxlength: "1000"})]));
    form.appendChild(S.el("div", {class: "buttons"}, [
      S.el("button", {type: "submit", class: "primary save", text: "Save", "aria-label": "Save the labels for ticket " + it.ticket_id}),
      S.el("button", {type: "button", class: "link cancel", text: "Cancel"})
    ]));
    return form;
  }

  // -- backlog --------------------------------------------------------------------------------------------------

  function startBacklog() {
    showError("");
    $("backlog-start").disabled = true;
    progress({state: "running", done: 0, total: null});
    S.api("/v1/triage", {method: "POST", json: {backlog: true}}).then(function (r) {
      if (r.status === 202) { return poll(); }
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (r.status === 409 && b.error === "triage_running") {  /* someone else's pass: follow it */
          $("backlog-status").textContent = "A triage pass is already running…";
          return poll();
        }
        showError(describe(r.status, b));
        $("backlog-progress").hidden = true;
        $("backlog-start").disabled = false;
      });
    }, function () { network(); $("backlog-start").disabled = false; });
  }

  function progress(job) {
    var box = $("backlog-progress");
    var bar = $("backlog-bar");
    var out = $("backlog-status");
    box.hidden = false;
    box.setAttribute("data-state", job.state);
    if (job.state === "training") {
      bar.removeAttribute("value");
      out.textContent = "Training the triage model on the helpdesk history…";
    } else if (job.state === "running") {
      if (job.total) {
        bar.max = job.total; bar.value = job.done || 0;
        out.textContent = "Triaging the backlog: " + (job.done || 0) + " of " + job.total + " tickets…";
      } else {
        bar.removeAttribute("value");
        out.textContent = "Triaging the backlog: reading the open tickets…";
      }
    } else if (job.state === "done") {
      var rep = job.report || {};
      bar.max = Math.max(1, job.total || 0); bar.value = bar.max;
      out.textContent = "Done: " + (rep.tickets || 0) + " open ticket(s) looked at — " + (rep.new || 0) + " new, " +
        (rep.pending_approval || 0) + " waiting for an agent, " + (rep.applied || 0) + " applied automatically, " +
        (rep.agrees || 0) + " already right, " + (rep.failed || 0) + " failed.";
    } else if (job.state === "failed") {
      bar.value = 0;
      out.textContent = "The triage pass failed.";
      showError("Triage pass failed (" + (job.code || "error") + ": " + (job.error || "unknown") + ").");
    }
  }

  function poll() {
    state.polling = true;
    $("backlog-start").disabled = true;
    S.api("/v1/triage/jobs").then(function (r) {
      if (!r.ok) {
        state.polling = false; $("backlog-start").disabled = false;
        return failed(r);
      }
      return r.json().then(function (job) {
        progress(job);
        if (job.state === "running" || job.state === "training") {
          window.setTimeout(poll, POLL_MS);
          return;
        }
        state.polling = false;
        $("backlog-start").disabled = false;
        if (job.state === "done") { load(); }
      });
    }, function () { state.polling = false; $("backlog-start").disabled = false; network(); });
  }
})();
