// Live X count: X's own rules (twitter-text's JavaScript, web/static/vendor/twitter-text), on the
// same string the server counts (publisher.text_rules.x_count): the text as typed, then the link on
// its own line unless the text has it already.
(function () {
  const text = document.getElementById("text");
  const link = document.getElementById("link");
  const out = document.getElementById("x-count");
  if (!text || !out) return;
  const limit = parseInt(text.dataset.xLimit, 10);
  const twitterText = window.twttr && window.twttr.txt;  // the server still counts without it
  function weighted(s) {
    return twitterText ? twitterText.parseTweet(s).weightedLength : null;
  }
  function show(element, n, shown) {
    if (n === null) return;
    element.dataset.weightedLength = String(n);
    element.textContent = shown ? n + " / " + limit : "";
    element.classList.toggle("over", n > limit);
  }
  const variant = document.getElementById("text_x");  // other words for X, when given
  function update() {
    const xChosen = document.querySelector('input[name="accounts"][data-platform="x"]:checked');
    const own = variant && variant.value.trim() !== "";
    const words = own ? variant.value : text.value;
    const url = link ? link.value.trim() : "";
    const full = url && !words.includes(url) ? words + "\n\n" + url : words;
    show(out, weighted(full), Boolean(xChosen));
    if (xChosen) out.textContent = (own ? out.dataset.own : "X") + ": " + out.textContent;
  }
  document.addEventListener("input", update);
  document.addEventListener("change", update);
  update();

  // Thread on X: add and remove follow-up parts, each with its own live count.
  const parts = document.getElementById("thread-parts");
  const addPart = document.getElementById("add-part");
  function countPart(area) {
    const hint = area.closest("li").querySelector(".part-count");
    show(hint, weighted(area.value), area.value.trim() !== "");
  }
  function renumber() {
    parts.querySelectorAll("li").forEach(function (li, i) {
      const area = li.querySelector("textarea");
      const label = li.querySelector("label");
      area.name = area.id = "thread-" + i;
      label.htmlFor = area.id;
      label.textContent = label.textContent.replace(/\d+/, String(i + 2));
    });
    addPart.disabled = parts.children.length >= parseInt(addPart.dataset.max, 10);
  }
  if (parts && addPart) {
    addPart.addEventListener("click", function () {
      const copy = parts.lastElementChild.cloneNode(true);
      copy.querySelector("textarea").value = "";
      countPart(copy.querySelector("textarea"));
      parts.appendChild(copy);
      renumber();
      copy.querySelector("textarea").focus();
    });
    parts.addEventListener("click", function (event) {
      if (!event.target.classList.contains("remove-part")) return;
      const li = event.target.closest("li");
      if (parts.children.length > 1) { li.remove(); } else { li.querySelector("textarea").value = ""; }
      renumber();
      parts.querySelectorAll("textarea").forEach(countPart);
    });
    parts.addEventListener("input", function (event) {
      if (event.target.classList.contains("thread-text")) countPart(event.target);
    });
    parts.querySelectorAll("textarea").forEach(countPart);
    renumber();
  }

  // Images: a preview of each chosen picture; the next slot appears once one is used.
  const slots = Array.from(document.querySelectorAll(".image-slot"));
  function showSlots() {
    let shownEmpty = false;
    slots.forEach(function (slot) {
      const used = slot.querySelector(".image-file").files.length > 0 ||
        slot.querySelector(".alt-text").value.trim() !== "";
      slot.hidden = !used && shownEmpty;
      if (!used) shownEmpty = true;
    });
  }
  // A chosen picture without a description is pointed out here, before anything is queued.
  function markUndescribed(slot) {
    const warning = slot.querySelector(".alt-missing");
    if (!warning) return;
    warning.hidden = !(slot.querySelector(".image-file").files.length > 0 &&
      slot.querySelector(".alt-text").value.trim() === "");
  }
  slots.forEach(function (slot) {
    const input = slot.querySelector(".image-file");
    slot.querySelector(".alt-text").addEventListener("input", function () { markUndescribed(slot); });
    input.addEventListener("change", function () { markUndescribed(slot); });
    input.addEventListener("change", function () {
      const preview = document.getElementById(input.dataset.preview);
      if (preview.src) URL.revokeObjectURL(preview.src);
      if (input.files.length) {
        preview.src = URL.createObjectURL(input.files[0]);
        preview.hidden = false;
      } else {
        preview.removeAttribute("src");
        preview.hidden = true;
      }
      showSlots();
    });
  });
  showSlots();
})();

// When: typing a date or a time chooses "at this time".
(function () {
  const at = document.querySelector('input[name="when"][value="at"]');
  if (!at) return;
  document.querySelectorAll(".when-at input").forEach(function (input) {
    input.addEventListener("input", function () { at.checked = true; });
  });
})();
