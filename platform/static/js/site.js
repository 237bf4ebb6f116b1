// The sites' only script, loaded from a file: the Content-Security-Policy allows no inline script.
//
// Disable a form's submit buttons once it is sent, so a double click sends it once. The server
// refuses a repeated submission anyway (shared.submit_once); this only spares the round trip.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.submitted) { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
});

// Links marked data-print open the browser's print dialogue (printable reports, certificates).
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("[data-print]");
  if (!link) { return; }
  event.preventDefault();
  window.print();
});

// Marksheet: copy-down. "Copy the first grade into every empty row" fills the blank grades with the
// first row's; Ctrl+D or "=" on a grade copies the grade of the row above (as a spreadsheet's fill-down).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy-down]");
  if (!button) { return; }
  var selects = Array.prototype.slice.call(button.form.querySelectorAll("select[data-grade]"));
  if (!selects.length || !selects[0].value) { return; }
  selects.slice(1).forEach(function (s) { if (!s.value) { s.value = selects[0].value; } });
});
document.addEventListener("keydown", function (event) {
  var select = event.target;
  if (!select.matches || !select.matches("select[data-grade]")) { return; }
  if (!((event.ctrlKey && (event.key === "d" || event.key === "D")) || event.key === "=")) { return; }
  var selects = Array.prototype.slice.call(select.form.querySelectorAll("select[data-grade]"));
  var index = selects.indexOf(select);
  if (index > 0) { event.preventDefault(); select.value = selects[index - 1].value; }
});
// A card (or a .table-scroll box) whose table is wider than the window (a phone) scrolls sideways inside itself: such a
// card takes the keyboard's focus, so that the arrow keys scroll it, and is named after its heading
// for screen readers (WCAG 2.1.1). Checked again when the window's width changes.
function markScrollRegions() {
  document.querySelectorAll("main .card, main section, main .table-scroll").forEach(function (box) {
    var scrolls = box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible";
    if (scrolls && !box.hasAttribute("tabindex")) {
      // named after its own heading; a table box inside a titled card after its caption or the card's
      // heading, as "Table: ..." (two landmarks of one name would confuse a screen reader)
      var heading = box.querySelector("h1, h2, h3") || box.querySelector("caption");
      var titled = box.closest(".card, section");
      var prefix = "";
      if (!heading && titled && titled !== box) { heading = titled.querySelector("h1, h2, h3"); prefix = "Table: "; }
      box.setAttribute("tabindex", "0");
      box.setAttribute("data-scroll-region", "");
      if (/^(DIV|SECTION)$/.test(box.tagName) && !box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")
          && !box.hasAttribute("role")) {
        box.setAttribute("data-scroll-region", "named");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", heading ? prefix + heading.textContent.trim() : "Table");
      }
    } else if (!scrolls && box.hasAttribute("data-scroll-region")) {
      if (box.getAttribute("data-scroll-region") === "named") {
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
      box.removeAttribute("tabindex");
      box.removeAttribute("data-scroll-region");
    }
  });
}
document.addEventListener("DOMContentLoaded", markScrollRegions);
window.addEventListener("resize", markScrollRegions);
