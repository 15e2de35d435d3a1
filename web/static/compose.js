// Live X length hint. The server's count (twitter-text rules) decides; this only helps typing.
(function () {
  const text = document.getElementById("text");
  const link = document.getElementById("link");
  const out = document.getElementById("x-count");
  if (!text || !out) return;
  const limit = parseInt(text.dataset.xLimit, 10);
  const urlPattern = /https?:\/\/\S+/g;
  function weighted(s) {
    let n = 0;
    const withoutUrls = s.replace(urlPattern, () => { n += 23; return ""; });
    for (const ch of withoutUrls) {
      const cp = ch.codePointAt(0);
      const light = cp <= 0x10ff || (cp >= 0x2000 && cp <= 0x200d) ||
        (cp >= 0x2010 && cp <= 0x201f) || (cp >= 0x2032 && cp <= 0x2037);
      n += light ? 1 : 2;
    }
    return n;
  }
  function update() {
    const xChosen = document.querySelector('input[name="accounts"][data-platform="x"]:checked');
    if (!xChosen) { out.textContent = ""; return; }
    const full = text.value.trim() + (link && link.value.trim() ? "\n\n" + link.value.trim() : "");
    const n = weighted(full);
    out.textContent = "X: " + n + " / " + limit;
    out.classList.toggle("over", n > limit);
  }
  document.addEventListener("input", update);
  document.addEventListener("change", update);
  update();

  // Thread on X: add and remove follow-up parts, each with its own live count.
  const parts = document.getElementById("thread-parts");
  const addPart = document.getElementById("add-part");
  function countPart(area) {
    const hint = area.closest("li").querySelector(".part-count");
    const n = weighted(area.value.trim());
    hint.textContent = area.value.trim() ? n + " / " + limit : "";
    hint.classList.toggle("over", n > limit);
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
      copy.querySelector(".part-count").textContent = "";
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
  slots.forEach(function (slot) {
    const input = slot.querySelector(".image-file");
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
