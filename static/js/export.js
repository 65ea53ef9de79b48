// Follows an export job: polls its status and updates the progress bar and message
// (announced through the aria-live region) until the document is ready or failed.
(function () {
  "use strict";
  var box = document.getElementById("export-status");
  if (!box || box.dataset.state === "done" || box.dataset.state === "failed") { return; }
  var texts = document.getElementById("export-texts").dataset;
  var message = document.getElementById("export-message");
  var bar = document.getElementById("export-progress");
  var download = document.getElementById("export-download");
  var lastText = message.textContent;

  function say(text) {
    if (text !== lastText) { message.textContent = text; lastText = text; }
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (job) {
        bar.value = job.progress;
        bar.textContent = job.progress + "%";
        if (job.state === "done") {
          bar.value = 100;
          say(texts.done);
          download.hidden = false;
          return;
        }
        if (job.state === "failed") {
          say(texts.failed.replace("{reason}", job.message || ""));
          return;
        }
        if (job.state === "running") { say(texts.running.replace("{percent}", job.progress)); }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 500);
}());
