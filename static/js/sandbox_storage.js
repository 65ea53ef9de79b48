// The sandbox LMS's platform storage (1EdTech "LTI Client Side postMessages"), as Canvas
// offers it: the tool framed in this page stores and reads short-lived values here with
// lti.put_data / lti.get_data. Values are kept per tool origin; messages from any other
// origin are ignored. Every message seen is kept in window.ltiStorageLog for the tests.
(function () {
  "use strict";
  var config = document.getElementById("lti-platform-storage");
  if (!config) { return; }
  var toolOrigin = config.dataset.toolOrigin;
  var stores = {};
  var log = window.ltiStorageLog = [];
  var SUPPORTED = ["lti.capabilities", "lti.put_data", "lti.get_data"];
  var MAX_LENGTH = 4096;

  function storeFor(origin) {
    if (!Object.prototype.hasOwnProperty.call(stores, origin)) { stores[origin] = new Map(); }
    return stores[origin];
  }

  function answer(event, data, response) {
    response.subject = String(data.subject) + ".response";
    response.message_id = data.message_id;
    log.push({ direction: "out", subject: response.subject, key: response.key, error: response.error || null });
    event.source.postMessage(response, event.origin);
  }

  function badRequest(message) { return { error: { code: "bad_request", message: message } }; }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.subject !== "string") { return; }
    if (data.subject.indexOf("lti.") !== 0) { return; }
    log.push({ direction: "in", subject: data.subject, origin: event.origin, key: data.key });
    if (event.origin !== toolOrigin || !event.source) {
      log.push({ direction: "ignored", subject: data.subject, origin: event.origin });
      return;
    }
    if (SUPPORTED.indexOf(data.subject) < 0) {
      answer(event, data, { error: { code: "unsupported_subject", message: "Not supported: " + data.subject } });
      return;
    }
    if (data.subject === "lti.capabilities") {
      answer(event, data, { supported_messages: SUPPORTED.map(function (s) { return { subject: s }; }) });
      return;
    }
    if (typeof data.message_id !== "string" || !data.message_id) {
      answer(event, data, badRequest("message_id is required"));
      return;
    }
    if (typeof data.key !== "string" || !data.key || data.key.length > MAX_LENGTH) {
      answer(event, data, badRequest("key must be a non-empty string"));
      return;
    }
    var store = storeFor(event.origin);
    if (data.subject === "lti.put_data") {
      if (data.value === null) {
        store.delete(data.key);
      } else if (typeof data.value !== "string" || data.value.length > MAX_LENGTH) {
        answer(event, data, badRequest("value must be a string or null"));
        return;
      } else {
        store.set(data.key, data.value);
      }
      answer(event, data, { key: data.key, value: data.value });
      return;
    }
    answer(event, data, { key: data.key, value: store.has(data.key) ? store.get(data.key) : null });
  });
})();
