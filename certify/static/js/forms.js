/* Forms that do not lose work.
   - A file larger than the upload limit (the input's data-max-bytes) is taken off the form before
     anything is sent, and the reason (data-too-large) is shown beside it; the server refuses such
     a file too, beside its field, and keeps everything else typed.
   - Leaving a form marked data-keep-work with changes not yet saved (another section, a link, the
     back button, closing the tab) asks first. */
(function () {
  "use strict";

  function showFileError(input, message) {
    var id = input.id + "-too-large";
    var note = document.getElementById(id);
    if (!message) {
      if (note) { note.remove(); }
      input.removeAttribute("aria-invalid");
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "error";
      note.id = id;
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
      input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + id).trim());
    }
    note.textContent = message;
    input.setAttribute("aria-invalid", "true");
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) { return; }
    var limit = Number(input.dataset.maxBytes);
    var tooLarge = Array.prototype.some.call(input.files || [], function (file) { return file.size > limit; });
    if (tooLarge) { input.value = ""; }
    showFileError(input, tooLarge ? input.dataset.tooLarge : null);
  });

  var changed = new Set();
  document.querySelectorAll("form[data-keep-work]").forEach(function (form) {
    function mark() { changed.add(form); }
    form.addEventListener("input", mark);
    form.addEventListener("change", mark);
    form.addEventListener("submit", function () { changed.clear(); });
  });
  window.addEventListener("beforeunload", function (event) {
    if (changed.size) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
