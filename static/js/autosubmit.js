// Posts the sandbox LMS's id_token to the tool, as an LMS's form_post response does.
document.getElementById("autosubmit").submit();
