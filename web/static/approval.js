// The composer's submit button says "Send for approval" while a chosen account needs approval
// (publisher.approval decides on the server; this only names what will happen).
(function () {
  "use strict";
  var button = document.querySelector("[data-testid=submit-post]");
  if (!button) { return; }
  var hint = document.getElementById("approval-hint");
  var boxes = document.querySelectorAll("input[name=accounts]");
  function update() {
    var review = false;
    boxes.forEach(function (box) {
      if (box.checked && box.dataset.needsApproval) { review = true; }
    });
    button.textContent = review ? button.dataset.reviewLabel : button.dataset.label;
    if (hint) { hint.hidden = !review; }
  }
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  update();
})();
