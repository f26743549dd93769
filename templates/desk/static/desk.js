// The editor's desk, keyboard first. On the review page: y / n / s answer, x says the ticked
// side is not a claim, c answers a group question with the ticked candidates, u undoes the
// last answer (each key presses the button that carries it: data-key); a / b and 1-9 tick
// the checkbox that carries them. Every action is a plain form POST with its CSRF token, so
// the desk works without this script too.
"use strict";
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) { return; }
  var target = event.target;
  if (target && (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName) ||
      (target.tagName === "INPUT" && target.type !== "checkbox"))) { return; }
  var key = (event.key || "").toLowerCase();
  if (key.length !== 1) { return; }
  var box = document.querySelector('input[type="checkbox"][data-key="' + key + '"]');
  if (box) {
    event.preventDefault();
    box.checked = !box.checked;
    return;
  }
  var button = document.querySelector('button[data-key="' + key + '"]:not([disabled])');
  if (!button) { return; }
  event.preventDefault();
  if (button.form && button.form.requestSubmit) {
    button.form.requestSubmit(button); // the button's name and value go with the form
  } else {
    button.click();
  }
  document.querySelectorAll("button[data-key]").forEach(function (b) { b.disabled = true; }); // one press, one answer
});
