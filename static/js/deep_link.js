// Sends the signed deep-linking response to the LMS (form_post), as soon as the page loads.
// Without JavaScript the page's button does the same.
document.getElementById("deep-link-response").submit();
