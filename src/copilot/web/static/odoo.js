/* Host page chrome: the top bar (who is signed in). The widget itself comes from its one script tag. */
document.addEventListener("DOMContentLoaded", function () { window.CopilotSession.header("odoo"); });
