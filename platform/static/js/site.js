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
