// Pre-selects the browser's time zone in a new placement (the person can change it).
(function () {
  var box = document.querySelector("[data-browser-timezone]");
  if (!box || box.hasAttribute("data-keep")) return;
  var select = box.querySelector("select");
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (select && !select.value && zone && select.querySelector('option[value="' + zone + '"]')) select.value = zone;
})();
