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
})();
