/* Compliance review: audit search with filters, record detail, chain verification, export; approvals queue. */
(function () {
  "use strict";
  var S = window.CopilotSession;
  function $(id) { return document.getElementById(id); }

  document.addEventListener("DOMContentLoaded", function () {
    S.header("review");
    if (!S.load()) { window.location.assign("/signin?next=/review"); return; }
    bindTabs();
    $("audit-filters").addEventListener("submit", function (ev) { ev.preventDefault(); search(); });
    $("verify-chain").addEventListener("click", verify);
    $("export-jsonl").addEventListener("click", function () { exportAudit("jsonl"); });
    $("export-csv").addEventListener("click", function () { exportAudit("csv"); });
    var role = S.load().principal.role;
    if (role === "compliance" || role === "admin") { search(); } else { select("approvals"); }
  });

  function bindTabs() {
    ["audit", "approvals"].forEach(function (name) {
      $("tab-" + name).addEventListener("click", function () { select(name); });
    });
    $("tab-audit").parentNode.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
        var next = $("tab-audit").getAttribute("aria-selected") === "true" ? "approvals" : "audit";
        select(next); $("tab-" + next).focus();
      }
    });
  }

  function select(name) {
    ["audit", "approvals"].forEach(function (n) {
      $("tab-" + n).setAttribute("aria-selected", n === name ? "true" : "false");
      $("tab-" + n).tabIndex = n === name ? 0 : -1;
      $("panel-" + n).hidden = n !== name;
    });
    if (name === "approvals") { loadApprovals(); }
  }

  function filters() {
    var q = new URLSearchParams();
    ["text", "principal", "tool", "decision"].forEach(function (k) {
      var v = $("f-" + k).value.trim(); if (v) { q.set(k, v); }
    });
    ["since", "until"].forEach(function (k) {
      var v = $("f-" + k).value; if (v) { q.set(k, new Date(v).toISOString()); }
    });
    return q;
  }

  function failed(r) {
    return r.json().catch(function () { return {}; }).then(function (b) {
      $("audit-error").textContent = r.status === 403 ? "Your role may not use the audit log." :
        "Request failed (" + (b.error || r.status) + ")";
    });
  }

  function search() {
    $("audit-error").textContent = "";
    var q = filters(); q.set("limit", "200");
    S.api("/v1/audit/records?" + q.toString()).then(function (r) {
      if (!r.ok) { return failed(r); }
      return r.json().then(render);
    });
  }

  function render(records) {
    var body = $("audit-rows");
    body.textContent = "";
    $("audit-count").textContent = records.length + " record(s), oldest first";
    records.forEach(function (rec) {
      var btn = S.el("button", {type: "button", class: "link record-open", "data-record": rec.record_id,
        text: "Open", "aria-label": "Open record " + rec.seq});
      btn.addEventListener("click", function () { detail(rec.record_id); });
      var tr = S.el("tr", {"data-seq": String(rec.seq)}, [rec.seq, rec.ts, rec.principal_id, rec.role, rec.tool,
        rec.kind, rec.decision, rec.outcome].map(function (v) { return S.el("td", {text: String(v)}); }));
      tr.appendChild(S.el("td", {}, [btn]));
      body.appendChild(tr);
    });
  }

  function detail(id) {
    S.api("/v1/audit/records/" + encodeURIComponent(id)).then(function (r) {
      if (!r.ok) { return failed(r); }
      return r.json().then(function (rec) {
        var view = Object.assign({}, rec);
        ["args_json", "doc_ids_json", "chunk_ids_json", "flags_json"].forEach(function (k) {
          try { view[k.replace("_json", "")] = JSON.parse(rec[k]); } catch (e) { /* keep verbatim */ }
        });
        $("record-title").textContent = "Record " + rec.seq + " (" + rec.record_id + ")";
        $("record-json").textContent = JSON.stringify(view, null, 2);
        $("record-detail").hidden = false;
        $("record-json").focus();
      });
    });
  }

  function verify() {
    var out = $("verify-status");
    out.className = ""; out.textContent = "Verifying…";
    S.api("/v1/audit/verify").then(function (r) {
      if (!r.ok) { out.textContent = ""; return failed(r); }
      return r.json().then(function (v) {
        if (v.ok) {
          out.className = "ok";
          out.textContent = "Chain intact: " + v.checked + " records verified up to seq " + v.head_seq + ".";
        } else {
          out.className = "bad";
          out.textContent = "Chain broken at seq " + v.first_bad_seq + (v.first_bad_record_id ? " (record " +
            v.first_bad_record_id + ")" : "") + ": " + v.reason;
        }
      });
    });
  }

  function exportAudit(fmt) {
    var q = filters(); q.delete("text"); q.delete("decision"); q.set("format", fmt);
    S.api("/v1/audit/export?" + q.toString()).then(function (r) {
      if (!r.ok) { return failed(r); }
      return r.blob().then(function (blob) {
        var a = S.el("a", {href: URL.createObjectURL(blob), download: "copilot-audit." + fmt, id: "export-link"});
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    });
  }

  function loadApprovals() {
    var list = $("approvals-list");
    S.api("/v1/approvals?status=pending").then(function (r) {
      if (!r.ok) { $("approvals-status").textContent = "The approvals queue could not be loaded."; return; }
      return r.json().then(function (reqs) {
        list.textContent = "";
        $("approvals-status").textContent = reqs.length ? reqs.length + " request(s) waiting" : "Nothing is waiting for your decision.";
        reqs.forEach(function (req) { list.appendChild(approvalCard(req)); });
      });
    });
  }

  // Every record reference in a request's facts ({model, id, name, url}) becomes a link into Odoo.
  function factLinks(facts) {
    var out = [];
    (function walk(v) {
      if (!v || typeof v !== "object") { return; }
      if (Array.isArray(v)) { v.forEach(walk); return; }
      if (typeof v.url === "string" && /^https?:\/\//.test(v.url) && v.model) { out.push(v); }
      Object.keys(v).forEach(function (k) { if (k !== "url") { walk(v[k]); } });
    })(facts);
    return out;
  }

  function factsBlock(facts) {
    if (!facts) { return null; }
    var items = factLinks(facts).map(function (r) {
      return S.el("li", {}, [S.el("a", {href: r.url, target: "_blank", rel: "noopener noreferrer",
                                        text: r.model + " · " + (r.name || r.id)})]);
    });
    return S.el("section", {class: "facts", "aria-label": "What Odoo says"}, [
      S.el("h3", {text: "From Odoo (what approving writes)"}),
      items.length ? S.el("ul", {}, items) : null,
      S.el("pre", {class: "detail", text: JSON.stringify(facts, null, 2)})
    ]);
  }

  function approvalCard(req) {
    var reason = S.el("input", {id: "reason-" + req.id, "aria-label": "Reason for request " + req.id, placeholder: "Reason (optional)"});
    var msg = S.el("p", {role: "status", class: "decision-status"});
    var card = S.el("article", {class: "approval", "data-approval": req.id}, [
      S.el("h2", {text: req.tool + " — requested by " + req.requester_id + " (" + req.requester_role + ")"}),
      S.el("p", {text: req.reason + " · rule " + (req.rule_id || "-") + " · expires " + req.expires_at}),
      S.el("pre", {class: "detail", text: JSON.stringify(req.args, null, 2)}),
      factsBlock(req.facts),
      reason
    ]);
    var buttons = S.el("div", {class: "buttons"});
    [["approve", "Approve"], ["reject", "Reject"]].forEach(function (d) {
      var b = S.el("button", {type: "button", class: d[0], text: d[1]});
      b.addEventListener("click", function () {
        S.api("/v1/approvals/" + encodeURIComponent(req.id) + "/" + d[0], {method: "POST", json: {reason: reason.value}})
          .then(function (r) {
            return r.json().then(function (body) {
              if (r.ok) {
                msg.className = "ok decision-status";
                msg.textContent = d[0] === "approve" ? "Approved — the call ran with status " + body.status + "." : "Rejected.";
                buttons.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
              } else {
                msg.className = "bad decision-status";
                msg.textContent = "Refused: " + (typeof body.detail === "string" ? body.detail : body.error);
              }
            });
          });
      });
      buttons.appendChild(b);
    });
    card.appendChild(buttons);
    card.appendChild(msg);
    return card;
  }
})();
