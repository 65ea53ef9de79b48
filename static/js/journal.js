// Autosave for the weekly entry: what is typed is sent to the server a moment after
// typing stops and when the page is hidden or left. A copy stays in this browser until
// the server has it, so an expired session loses nothing: open the tool again and the
// text comes back.
(function () {
  "use strict";
  var form = document.getElementById("entry-form");
  if (!form) return;
  var status = document.getElementById("autosave-status");
  var url = form.getAttribute("data-autosave-url");
  var key = form.getAttribute("data-storage-key");
  var timer = null;
  var dirty = false;

  function say(text) { if (status) status.textContent = text; }
  function t(name) { return form.getAttribute("data-msg-" + name) || name; }

  function snapshot() {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "submit") return;
      if (el.type === "checkbox") { data[el.name + "|" + el.value] = el.checked; }
      else { data[el.name] = el.value; }
    });
    return data;
  }

  function keep() {
    try { localStorage.setItem(key, JSON.stringify({at: new Date().toISOString(), fields: snapshot()})); } catch (e) {}
  }

  function restore() {
    var kept;
    try { kept = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { kept = null; }
    if (!kept) return;
    var serverSaved = form.getAttribute("data-server-saved");
    if (serverSaved && new Date(serverSaved) >= new Date(kept.at)) { localStorage.removeItem(key); return; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "submit") return;
      if (el.type === "checkbox") {
        var v = kept.fields[el.name + "|" + el.value];
        if (v !== undefined) el.checked = v;
      } else if (kept.fields[el.name] !== undefined) { el.value = kept.fields[el.name]; }
    });
    dirty = true;
    say(t("restored"));
    schedule();
  }

  function send(useBeacon) {
    if (!dirty) return;
    var body = new FormData(form);
    body.delete("action");
    if (useBeacon && navigator.sendBeacon) { navigator.sendBeacon(url, body); return; }
    say(t("saving"));
    fetch(url, {method: "POST", body: body, credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.ok) return response.json().then(function (json) {
          dirty = false;
          try { localStorage.removeItem(key); } catch (e) {}
          say(t("saved") + " " + new Date(json.saved_at).toLocaleTimeString());
        });
        say(response.status === 401 || response.status === 400 ? t("expired") : t("failed"));
      })
      .catch(function () { say(t("offline")); });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () { send(false); }, 2000);
  }

  form.addEventListener("input", function () { dirty = true; keep(); schedule(); });
  form.addEventListener("change", function () { dirty = true; keep(); schedule(); });
  form.addEventListener("submit", function () { clearTimeout(timer); dirty = false; });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") send(true); });
  window.addEventListener("pagehide", function () { send(true); });

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  restore();
})();
