// The sandbox LMS closes the registration frame when the tool says it is done
// (LTI Dynamic Registration: postMessage {subject: "org.imsglobal.lti.close"}).
(function () {
  var frame = document.getElementById("registration-frame");
  var status = document.getElementById("registration-status");
  window.addEventListener("message", function (event) {
    if (!frame || event.source !== frame.contentWindow) { return; }
    if (!event.data || event.data.subject !== "org.imsglobal.lti.close") { return; }
    frame.remove();
    var link = document.createElement("a");
    link.href = frame.dataset.doneUrl;
    link.textContent = "See the registered tools";
    status.textContent = "The tool finished its registration. ";
    status.appendChild(link);
  });
})();
