// Disable a form's submit buttons once it is sent, so a double click sends it once. The server
// refuses a repeated submission anyway (console.access.submit_once); this only spares the round trip.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.submitted) { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
});
