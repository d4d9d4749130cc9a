/* Every page, on a narrow screen: the site menu folds behind one button (without this script it
   stays open), and a table too wide for the screen, which scrolls inside its own box, can be
   reached and scrolled with the keyboard. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var button = document.querySelector(".menu-button");
  var header = document.querySelector(".site-header");
  if (button && header) {
    button.addEventListener("click", function () {
      var open = header.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function focusableScrollers() {
    document.querySelectorAll(".table, .table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
      } else {
        box.removeAttribute("tabindex");
      }
    });
  }
  focusableScrollers();
  window.addEventListener("resize", focusableScrollers);
})();
