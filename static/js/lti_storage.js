// LTI platform storage, tool side (1EdTech "LTI Client Side postMessages"): the login page
// stores this login's value in the LMS frame named by lti_storage_target, the launch page
// reads it back. Messages go to "*" as Canvas asks (its page and its OIDC endpoint are
// different origins); an answer counts only from the frame we asked and with our message_id.
(function () {
  "use strict";
  var root = document.getElementById("lti-storage");
  if (!root) { return; }
  var TIMEOUT_MS = 2000;

  function targetFrame(name) {
    var parent = window.parent;
    if (!parent || parent === window) { return null; }
    if (name === "_parent") { return parent; }
    try { return parent.frames[name] || null; } catch (e) { return null; }
  }

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // Sends one message; resolves with the answer, rejects on an error answer or silence.
  // With `repeat`, asks again every 250 ms (same id): the LMS page may still be loading
  // its listener when the frame starts.
  function ask(frame, message, repeat, timeoutMs) {
    return new Promise(function (resolve, reject) {
      message.message_id = newId();
      var timer = window.setTimeout(function () { done(); reject(new Error("timeout")); }, timeoutMs || TIMEOUT_MS);
      var again = repeat ? window.setInterval(function () { frame.postMessage(message, "*"); }, 250) : null;
      var done = function () {
        window.clearTimeout(timer);
        if (again !== null) { window.clearInterval(again); }
        window.removeEventListener("message", listen);
      };
      var listen = function (event) {
        var data = event.data;
        if (event.source !== frame || !data || typeof data !== "object") { return; }
        if (data.message_id !== message.message_id || data.subject !== message.subject + ".response") { return; }
        done();
        if (data.error) { reject(new Error(String(data.error.code || "error"))); } else { resolve(data); }
      };
      window.addEventListener("message", listen);
      frame.postMessage(message, "*");
    });
  }

  var frame = targetFrame(root.dataset.target);
  var key = root.dataset.key;

  if (root.dataset.mode === "put") {
    var goOn = function () { window.location.replace(root.dataset.continueUrl); };
    var withoutStorage = function () {
      var body = new FormData();
      body.append("state", root.dataset.state);
      fetch(root.dataset.fallbackUrl, { method: "POST", body: body, credentials: "same-origin", keepalive: true })
        .catch(function () { return null; })
        .then(goOn);
    };
    if (!frame) { withoutStorage(); return; }
    var started = Date.now();  // capabilities and put_data share the one time limit
    ask(frame, { subject: "lti.capabilities" }, true)
      .then(function (answer) {
        var subjects = (answer.supported_messages || []).map(function (m) { return m && m.subject; });
        if (subjects.indexOf("lti.put_data") < 0 || subjects.indexOf("lti.get_data") < 0) {
          throw new Error("unsupported");
        }
        var left = Math.max(250, TIMEOUT_MS - (Date.now() - started));
        return ask(frame, { subject: "lti.put_data", key: key, value: root.dataset.value }, false, left);
      })
      .then(function (answer) {
        if (answer.key !== key || answer.value !== root.dataset.value) { throw new Error("mismatch"); }
        goOn();
      })
      .catch(withoutStorage);
    return;
  }

  var form = document.getElementById("lti-storage-verify");
  var check = function (value) {
    form.elements.value.value = typeof value === "string" ? value : "";
    form.submit();
  };
  if (!frame) { check(""); return; }
  ask(frame, { subject: "lti.get_data", key: key })
    .then(function (answer) { check(answer.key === key ? answer.value : ""); })
    .catch(function () { check(""); });
})();
