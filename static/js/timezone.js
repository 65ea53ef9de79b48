// The browser's time zone, where the person has none of their own (the LMS sent none and
// they chose none): sent to the tool, which keeps it as the person's; pre-selected in a
// new placement (the person can change it); and used to show deadlines
// (<time data-local-time>) in the time where the person is.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;

  // Told to the tool once, for a person who has no zone yet (base.html asks for it).
  var body = document.body;
  if (body.dataset.browserTimezoneUrl && !window.__portfolioTimezoneSent) {
    window.__portfolioTimezoneSent = true;
    var form = new FormData();
    form.append("timezone", zone);
    form.append("csrf_token", body.dataset.csrfToken || "");
    fetch(body.dataset.browserTimezoneUrl, { method: "POST", body: form, credentials: "same-origin" })
      .catch(function () {});
  }

  var box = document.querySelector("[data-browser-timezone]");
  var select = box && !box.hasAttribute("data-keep") ? box.querySelector("select") : null;
  // Without a known zone the select shows its first option; the browser's is a better guess.
  if (select && select.querySelector('option[value="' + zone + '"]')) select.value = zone;

  var lang = document.documentElement.lang || undefined;
  var format;
  try {
    format = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short", timeZone: zone });
  } catch (error) {
    return;
  }
  document.querySelectorAll("time[data-local-time]").forEach(function (time) {
    var when = new Date(time.getAttribute("datetime"));
    if (isNaN(when.getTime())) return;
    time.textContent = format.format(when);
    var label = time.parentNode.querySelector("[data-local-zone]");
    if (label) label.textContent = zone;
  });
})();
