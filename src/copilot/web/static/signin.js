/* Sign-in: demo password sign-in (development only) returns a short-lived session token for this tab. */
(function () {
  "use strict";
  var S = window.CopilotSession;
  var params = new URLSearchParams(window.location.search);

  function landing(role) {
    var next = params.get("next");
    if (next && next.charAt(0) === "/" && next.charAt(1) !== "/") { return next; }
    if (role === "helpdesk_agent") { return "/triage"; }
    if (role === "executive") { return "/executive"; }
    return (role === "compliance" || role === "admin") ? "/review" : "/odoo";
  }

  function signIn(username, password) {
    var err = document.getElementById("signin-error");
    err.textContent = "";
    return fetch("/v1/auth/login", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: username, password: password})
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { err.textContent = body.detail && body.detail.length ? "Sign-in failed: " + (typeof body.detail === "string" ? body.detail : "check the form") : "Sign-in failed"; return; }
        S.save(body);
        window.location.assign(landing(body.principal.role));
      });
    }).catch(function () { err.textContent = "The server could not be reached."; });
  }

  document.getElementById("signin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    signIn(document.getElementById("username").value.trim(), document.getElementById("password").value);
  });

  fetch("/v1/auth/demo-users").then(function (r) { return r.ok ? r.json() : []; }).then(function (users) {
    if (!users.length) { return; }
    var list = document.getElementById("demo-user-list");
    users.forEach(function (u) {
      var b = S.el("button", {type: "button", class: "demo-user", "data-user": u.id}, [
        S.el("strong", {text: u.name}), S.el("span", {text: " · " + u.role}),
        S.el("small", {text: u.hint + (u.groups.length ? " — groups: " + u.groups.join(", ") : "")})
      ]);
      b.addEventListener("click", function () { signIn(u.id, "demo"); });
      list.appendChild(S.el("li", {}, [b]));
    });
    document.getElementById("demo-users").hidden = false;
  });
})();
