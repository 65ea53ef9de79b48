// LTI Dynamic Registration: tell the LMS that registration is over, so it closes the frame
// it opened the tool in (Moodle then lists the tool, Canvas shows its review step).
(function () {
  var button = document.getElementById("close-registration");
  if (!button) { return; }
  if (window.parent === window) {
    button.hidden = true;  // not inside the LMS: nothing to close
    return;
  }
  button.addEventListener("click", function () {
    window.parent.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  });
})();
