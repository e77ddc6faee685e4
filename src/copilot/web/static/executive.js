/* Executive dashboard: a month and a scope (the network or a site); KPI cards with their level and 12-month
   trend (server-drawn SVG), the ranked exceptions with their records, a breakdown by site or supplier, the
   verified summary, and the review pack as HTML or PDF. Data from /v1 only, with the session's token. */
(function () {
  "use strict";
  var S = window.CopilotSession;
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December"];
  var LEVEL_WORDS = {ok: "within target", warn: "near threshold", breach: "past threshold", unknown: "no level"};
  var state = {defs: [], byId: {}, periods: [], period: "", site: "", summary: null, seq: 0, breakdownKpi: ""};

  function $(id) { return document.getElementById(id); }

  document.addEventListener("DOMContentLoaded", function () {
    S.header("executive");
    if (!S.load()) { window.location.assign("/signin?next=/executive"); return; }
    $("period").addEventListener("change", function () { state.period = this.value; reload(); });
    $("site").addEventListener("change", function () { state.site = this.value; reload(); });
    $("breakdown-kpi").addEventListener("change", function () { state.breakdownKpi = this.value; loadBreakdown(); });
    $("pack-html").addEventListener("click", function () { download("html"); });
    $("pack-pdf").addEventListener("click", function () { download("pdf"); });
    init();
  });

  // -- messages -------------------------------------------------------------------------------------------------

  var describe = S.describeError;

  function showError(text) { $("exec-error").textContent = text; }

  /* a failed response: its JSON error in the page's message area; resolves to the text */
  function failed(r) {
    return r.json().catch(function () { return {}; }).then(function (b) {
      var text = describe(r.status, b);
      showError(text);
      return text;
    });
  }

  function network() { showError("The server could not be reached."); return "The server could not be reached."; }

  /* GET JSON; rejects with the error text (already shown) on a failed response */
  function getJSON(path) {
    return S.api(path).then(function (r) {
      if (!r.ok) { return failed(r).then(function (t) { throw new Error(t); }); }
      return r.json();
    }, function () { throw new Error(network()); });
  }

  // -- formatting (as copilot.kpi.exceptions.format_value) -------------------------------------------------------

  function formatValue(unit, x) {
    if (x === null || x === undefined) { return "n/a"; }
    if (unit === "ratio") { return (x * 100).toFixed(1) + "%"; }
    if (unit === "currency") { return Math.round(x).toLocaleString("en-US"); }
    if (unit === "turns_per_year") { return x.toFixed(1) + " turns/year"; }
    return x.toFixed(1) + " " + unit;
  }

  function monthName(p) { return MONTHS[parseInt(p.slice(5, 7), 10) - 1] + " " + p.slice(0, 4); }
  function scopeName() { return state.site || "the network"; }
  function badge(level) {
    return S.el("span", {class: "badge badge-" + level, text: level === "unknown" ? "not measured" : level,
      title: LEVEL_WORDS[level] || level});
  }
  function where(e) { return e.site || e.group || "the network"; }

  /* an SVG response as an <img> data: URL (images cannot send the bearer token) */
  function svgImage(path, alt) {
    return S.api(path).then(function (r) {
      if (!r.ok) { return failed(r).then(function (t) { return S.el("p", {class: "error", text: t}); }); }
      return r.blob().then(function (blob) {
        return new Promise(function (resolve) {
          var reader = new FileReader();
          reader.onload = function () {
            var url = String(reader.result).replace(/^data:[^;,]*/, "data:image/svg+xml");
            resolve(S.el("img", {src: url, alt: alt}));
          };
          reader.onerror = function () { resolve(S.el("p", {class: "error", text: "The chart could not be read."})); };
          reader.readAsDataURL(blob);
        });
      });
    }, function () { return S.el("p", {class: "error", text: network()}); });
  }

  // -- start ----------------------------------------------------------------------------------------------------

  function init() {
    var params = new URLSearchParams(window.location.search);
    getJSON("/v1/kpis").then(function (pack) {
      state.defs = pack.kpis;
      pack.kpis.forEach(function (k) { state.byId[k.id] = k; });
      var first = pack.kpis.filter(function (k) { return k.site !== "none"; })[0] || pack.kpis[0];
      return getJSON("/v1/kpis?kpi=" + encodeURIComponent(first.id));
    }).then(function (data) {
      state.periods = data.periods;
      var sites = {};
      data.values.forEach(function (v) { if (v.site) { sites[v.site] = true; } });
      fillSelectors(Object.keys(sites).sort(), params);
      reload();
    }).catch(function () {
      $("exec-status").textContent = "The dashboard could not be loaded.";
      $("kpi-cards").setAttribute("aria-busy", "false");
    });
  }

  function fillSelectors(sites, params) {
    var period = $("period");
    state.periods.slice().reverse().forEach(function (p) {
      period.appendChild(S.el("option", {value: p, text: monthName(p)}));
    });
    var wanted = params.get("period");
    state.period = state.periods.indexOf(wanted) >= 0 ? wanted : state.periods[state.periods.length - 1];
    period.value = state.period;
    var site = $("site");
    sites.forEach(function (s) { site.appendChild(S.el("option", {value: s, text: s})); });
    state.site = sites.indexOf(params.get("site")) >= 0 ? params.get("site") : "";
    site.value = state.site;
    var bd = $("breakdown-kpi");
    state.defs.forEach(function (k) { bd.appendChild(S.el("option", {value: k.id, text: k.name})); });
    [period, site, bd].forEach(function (s) { s.disabled = false; });
  }

  // -- one month and scope --------------------------------------------------------------------------------------

  function query(extra) {
    var q = new URLSearchParams({period: state.period});
    if (state.site) { q.set("site", state.site); }
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    return q.toString();
  }

  function reload() {
    var seq = ++state.seq;
    showError("");
    var label = scopeName() + ", " + monthName(state.period);
    $("exec-status").textContent = "Loading " + label + "…";
    $("kpi-cards").setAttribute("aria-busy", "true");
    $("pack-html").disabled = true;
    $("pack-pdf").disabled = true;
    var url = new URL(window.location.href);
    url.search = query();
    window.history.replaceState(null, "", url.pathname + url.search);
    getJSON("/v1/summaries/pack?" + query({format: "json"})).then(function (summary) {
      if (seq !== state.seq) { return; }
      state.summary = summary;
      renderSummary(summary);
      renderExceptions(summary.exceptions);
      if (!state.breakdownKpi) {
        state.breakdownKpi = summary.exceptions.length ? summary.exceptions[0].kpi :
          (summary.figures.length ? summary.figures[0].kpi : state.defs[0].id);
        $("breakdown-kpi").value = state.breakdownKpi;
      }
      $("pack-html").disabled = false;
      $("pack-pdf").disabled = false;
      return Promise.all([renderCards(summary, seq), loadBreakdown()]).then(function () {
        if (seq !== state.seq) { return; }
        $("kpi-cards").setAttribute("aria-busy", "false");
        $("exec-status").textContent = "Showing " + label + ".";
      });
    }).catch(function () {
      if (seq !== state.seq) { return; }
      clearScope();
      $("kpi-cards").setAttribute("aria-busy", "false");
      $("exec-status").textContent = "Could not load " + label + ".";
    });
  }

  /* nothing of the previous month or scope stays on screen under the new one's name */
  function clearScope() {
    state.summary = null;
    $("kpi-cards").textContent = "";
    $("exception-rows").textContent = "";
    $("exceptions-count").textContent = "No data.";
    $("summary-text").textContent = "";
    $("summary-check").textContent = "";
    $("summary-hash").textContent = "";
  }

  // -- KPI cards ------------------------------------------------------------------------------------------------

  function renderCards(summary, seq) {
    var grid = $("kpi-cards");
    grid.textContent = "";
    var figures = {};
    summary.figures.forEach(function (f) { figures[f.kpi] = f; });
    return Promise.all(state.defs.map(function (k) {
      var card = S.el("article", {class: "kpi-card", "data-kpi": k.id, "aria-labelledby": "kpi-name-" + k.id}, [
        S.el("h3", {id: "kpi-name-" + k.id, text: k.name})
      ]);
      grid.appendChild(card);
      var f = figures[k.id];
      if (f) { return measured(card, k, f, seq); }
      var networkOnly = Boolean(state.site) && k.site === "none";  /* asked for the network, where it lives */
      var q = new URLSearchParams({kpi: k.id, period: state.period});
      if (state.site && !networkOnly) { q.set("site", state.site); }
      return S.api("/v1/kpis?" + q.toString()).then(function (r) {
        if (!r.ok) { return failed(r).then(function (t) { notMeasured(card, t); }); }
        return r.json().then(function (data) {
          var reason = unavailable(data.values);
          if (networkOnly && !reason) {
            return notMeasured(card, "Measured for the network" + (k.by ? " by " + k.by : "") + ", not per site.",
              "network only");
          }
          notMeasured(card, reason || reasonOf(k, data.values));
        });
      }, function () { notMeasured(card, network()); });
    }));
  }

  function unavailable(values) {
    var off = values.filter(function (v) { return v.status !== "ok" && v.reason; })[0];
    return off ? "Not measured: " + off.reason + "." : "";
  }

  /* why a KPI has no number for this scope and month: the API's own reason, never a number */
  function reasonOf(k, values) {
    var off = unavailable(values);
    if (off) { return off; }
    if (values.length > 1 && k.agg === "median") {
      return "No single " + scopeName() + " value: a median does not add up across " + (k.by || "groups") +
        "s. See the breakdown.";
    }
    return "Not measured for " + scopeName() + " in " + monthName(state.period) + ".";
  }

  function notMeasured(card, reason, label) {
    card.classList.add("level-unknown");
    var b = badge("unknown");
    if (label) { b.textContent = label; }
    card.appendChild(S.el("p", {class: "kpi-value"}, [b]));
    card.appendChild(S.el("p", {class: "kpi-reason", text: reason}));
  }

  function measured(card, k, f, seq) {
    card.classList.add("level-" + f.level);
    card.setAttribute("data-level", f.level);
    card.appendChild(S.el("p", {class: "kpi-value"}, [S.el("span", {class: "value", text: f.text}), badge(f.level)]));
    card.appendChild(S.el("p", {class: "muted", text: "Thresholds: warn " + formatValue(k.unit, k.thresholds.warn) +
      ", breach " + formatValue(k.unit, k.thresholds.breach) + " (" + k.good + " is better)"}));
    var chart = S.el("div", {class: "exec-chart kpi-trend"}, [S.el("p", {class: "muted", text: "Loading the trend…"})]);
    card.appendChild(chart);
    var path = "/v1/kpis/" + encodeURIComponent(k.id) + "/trend.svg" +
      (state.site ? "?site=" + encodeURIComponent(state.site) : "");
    var alt = k.name + " over the last 12 months for " + scopeName() + ", with the warn (" +
      formatValue(k.unit, k.thresholds.warn) + ") and breach (" + formatValue(k.unit, k.thresholds.breach) + ") lines";
    return svgImage(path, alt).then(function (node) {
      if (seq !== state.seq) { return; }
      chart.textContent = "";
      chart.appendChild(node);
    });
  }

  // -- exceptions -----------------------------------------------------------------------------------------------

  function renderExceptions(list) {
    var body = $("exception-rows");
    body.textContent = "";
    $("exceptions-count").textContent = list.length ? list.length + " exception(s) for " + scopeName() + " in " +
      monthName(state.period) + ", most important first" : "No exceptions for " + scopeName() + " in " +
      monthName(state.period) + ".";
    list.forEach(function (e, i) {
      var id = "exception-detail-" + i;
      var btn = S.el("button", {type: "button", class: "link exception-toggle", "aria-expanded": "false",
        "aria-controls": id, text: "Show records", "aria-label": "Show the records of exception " + (i + 1)});
      var row = S.el("tr", {class: "exception", "data-kpi": e.kpi}, [
        S.el("td", {text: String(i + 1)}), S.el("td", {text: e.name}), S.el("td", {text: where(e)}),
        S.el("td", {text: formatValue(e.unit, e.value)}), S.el("td", {text: e.kinds.join(", ")}),
        S.el("td", {text: e.owner}), S.el("td", {}, [btn])
      ]);
      var detail = S.el("tr", {class: "exception-detail", id: id}, [S.el("td", {colspan: "7"}, [detailOf(e)])]);
      detail.hidden = true;
      btn.addEventListener("click", function () {
        var open = btn.getAttribute("aria-expanded") !== "true";
        btn.setAttribute("aria-expanded", open ? "true" : "false");
        btn.textContent = open ? "Hide records" : "Show records";
        detail.hidden = !open;
      });
      body.appendChild(row);
      body.appendChild(detail);
    });
  }

  function detailOf(e) {
    var recs = S.el("ul", {class: "records"});
    (e.records || []).forEach(function (r) {
      var label = r.model + " #" + r.id;
      recs.appendChild(S.el("li", {}, [r.link ? S.el("a", {href: r.link, target: "_blank", rel: "noopener",
        class: "record-link", text: label, "aria-label": "Open " + label + " in Odoo"}) : S.el("span", {text: label})]));
    });
    var items = [["Why", e.why + "."], ["Owner", e.owner], ["Suggested action", e.action],
      ["Threshold", formatValue(e.unit, e.threshold)]];
    if (e.baseline !== null && e.baseline !== undefined) { items.push(["Usual value", formatValue(e.unit, e.baseline)]); }
    var dl = S.el("dl");
    items.forEach(function (it) {
      dl.appendChild(S.el("dt", {text: it[0]}));
      dl.appendChild(S.el("dd", {text: it[1]}));
    });
    var n = (e.records || []).length;
    dl.appendChild(S.el("dt", {text: "Records (" + (n >= 20 ? "the first 20" : n) + ")"}));
    dl.appendChild(S.el("dd", {}, [(e.records || []).length ? recs : S.el("span", {text: "None listed."})]));
    return dl;
  }

  // -- breakdown, summary, downloads ----------------------------------------------------------------------------

  function loadBreakdown() {
    var k = state.byId[state.breakdownKpi];
    if (!k) { return Promise.resolve(); }
    var box = $("breakdown-chart");
    box.textContent = "";
    box.appendChild(S.el("p", {class: "muted", text: "Loading the breakdown…"}));
    var by = k.site !== "none" ? "site" : (k.by || "group");
    var path = "/v1/kpis/" + encodeURIComponent(k.id) + "/breakdown.svg?period=" + encodeURIComponent(state.period);
    var want = state.breakdownKpi + "@" + state.period;
    return svgImage(path, k.name + " in " + monthName(state.period) + " by " + by + ", coloured by level")
      .then(function (node) {
        if (want !== state.breakdownKpi + "@" + state.period) { return; }
        box.textContent = "";
        box.appendChild(node);
      });
  }

  function renderSummary(s) {
    $("summary-text").textContent = s.text;
    var check = s.check || {};
    var problems = check.problems || [];
    var line = $("summary-check");
    line.className = problems.length ? "bad" : "ok";
    line.textContent = problems.length ?
      "The check found " + problems.length + " problem(s): " + problems.join("; ") :
      "Verified: " + check.checked + " numbers, months, places and directions checked against the KPI table, " +
      "no problems (written by " + s.by + ").";
    $("summary-hash").textContent = s.snapshot_sha256;
  }

  function download(fmt) {
    var btn = $("pack-" + fmt);
    btn.disabled = true;
    var old = btn.textContent;
    btn.textContent = "Preparing the " + fmt.toUpperCase() + " pack…";
    S.api("/v1/summaries/pack?" + query({format: fmt})).then(function (r) {
      if (!r.ok) { return failed(r); }
      return r.blob().then(function (blob) {
        var scope = (state.site || "network").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
        var a = S.el("a", {href: URL.createObjectURL(blob), download: "kpi-review-" + scope + "-" + state.period + "." + fmt,
          id: "pack-link"});
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    }, network).then(function () {
      btn.disabled = false;
      btn.textContent = old;
    });
  }
})();
