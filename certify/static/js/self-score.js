/* Live self-score: while an applicant answers a section, ask the server what the score would be
   with the answers on the page (nothing is saved) and update the score panel. Works without it:
   the panel is also refreshed on every save. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-url]");
  var panel = document.querySelector(".score-panel");
  if (!form || !panel || !window.fetch) { return; }
  var timer = null;

  function update(result) {
    var total = panel.querySelector("[data-score=total]");
    if (total) { total.textContent = result.total; }
    var verdict = panel.querySelector("[data-score=verdict]");
    if (verdict) {
      verdict.textContent = result.passed ? verdict.dataset.pass : verdict.dataset.fail;
      verdict.className = "badge " + (result.passed ? "badge-ok" : "badge-no");
    }
    var failed = panel.querySelector("[data-score=failed]");
    if (failed && typeof result.failed_html === "string") { failed.innerHTML = result.failed_html; }
    Object.keys(result.sections).forEach(function (id) {
      var cell = panel.querySelector('[data-section="' + id + '"]');
      if (cell) { cell.textContent = result.sections[id].score + " / " + result.sections[id].max; }
    });
  }

  function refresh() {
    var data = new FormData(form);
    Array.from(form.querySelectorAll("input[type=file]")).forEach(function (input) { data.delete(input.name); });
    fetch(form.dataset.previewUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) { if (result) { update(result); } })
      .catch(function () { /* the panel keeps its last value */ });
  }

  form.addEventListener("change", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  });
})();
