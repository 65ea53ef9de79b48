// Live score on the grading page: the sum of the chosen levels' points, shown while the
// advisor chooses. The server computes the score it stores; this only previews it.
(function () {
  "use strict";
  var form = document.getElementById("grade-form");
  var output = document.getElementById("grade-score-value");
  if (!form || !output) return;
  var locale = document.documentElement.getAttribute("lang") || undefined;

  function format(value) {
    try { return new Intl.NumberFormat(locale, {maximumFractionDigits: 2}).format(value); }
    catch (e) { return String(Math.round(value * 100) / 100); }
  }

  function update() {
    // Sum in hundredths: points have at most two decimals, and floats drift.
    var cents = 0;
    Array.prototype.forEach.call(form.querySelectorAll("input[type=radio]:checked"), function (input) {
      cents += Math.round(parseFloat(input.getAttribute("data-points") || "0") * 100);
    });
    output.textContent = format(cents / 100);
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.type === "radio") update();
  });
  update();
}());
