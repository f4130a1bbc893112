// A form's button is disabled once it is submitted, so a double click sends it once. The server
// does not rely on this: every action form carries a one-time key and acts once per key.
document.addEventListener("submit", function (e) {
  var b = e.target.querySelector("button[type=submit]");
  if (b) {
    setTimeout(function () { b.disabled = true; }, 0);
  }
});
