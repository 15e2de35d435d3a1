// Live previews: the post as X and a Facebook Page will show it, redrawn as the writer types.
// Built with DOM nodes and textContent only (what is typed is never HTML). Links and hashtags
// are found by twitter-text, as X finds them; the link card itself is the network's, fetched
// when the post is published, so it is a placeholder here.
(function () {
  const panel = document.getElementById("previews");
  if (!panel) return;
  const $ = function (id) { return document.getElementById(id); };
  const twitterText = window.twttr && window.twttr.txt;
  const say = panel.dataset;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Text with its links and hashtags marked, as the network marks them.
  function richText(value) {
    const p = el("p", "pv-text");
    let entities = [];
    if (twitterText) {
      entities = twitterText.extractEntitiesWithIndices(value, { extractUrlsWithoutProtocol: true })
        .filter(function (e) { return e.url || e.hashtag || e.screenName; });
    }
    let at = 0;
    const chars = Array.from(value);  // twitter-text counts code points
    entities.forEach(function (e) {
      p.appendChild(document.createTextNode(chars.slice(at, e.indices[0]).join("")));
      p.appendChild(el("span", "pv-entity", chars.slice(e.indices[0], e.indices[1]).join("")));
      at = e.indices[1];
    });
    p.appendChild(document.createTextNode(chars.slice(at).join("")));
    return p;
  }

  function linkCard(url) {
    let host = url;
    try { host = new URL(url).hostname.replace(/^www\./, ""); } catch (e) { /* shown as typed */ }
    const card = el("div", "pv-link-card");
    card.appendChild(el("div", "pv-link-image"));
    card.appendChild(el("p", "pv-link-host", host));
    card.appendChild(el("p", "pv-link-note", say.linkNote));
    return card;
  }

  function pictures() {
    const found = [];
    document.querySelectorAll(".kept-image").forEach(function (kept) {
      const remove = kept.querySelector('input[type="checkbox"]');
      if (remove && remove.checked) return;
      const alt = kept.querySelector(".alt-text");
      found.push({ src: kept.querySelector("img").src, alt: alt ? alt.value.trim() : "" });
    });
    document.querySelectorAll(".image-slot").forEach(function (slot) {
      const img = slot.querySelector(".image-preview");
      if (img.hidden || !img.src) return;
      found.push({ src: img.src, alt: slot.querySelector(".alt-text").value.trim() });
    });
    return found;
  }

  function gallery(images) {
    const box = el("div", "pv-images pv-images-" + Math.min(images.length, 4));
    images.slice(0, 4).forEach(function (image) {
      const figure = el("figure", "pv-image");
      const img = el("img");
      img.src = image.src;
      img.alt = image.alt;
      figure.appendChild(img);
      if (!image.alt) figure.appendChild(el("figcaption", "pv-no-alt", say.noAlt));
      box.appendChild(figure);
    });
    return box;
  }

  function header(name, handle, cls) {
    const head = el("div", "pv-head");
    head.appendChild(el("span", "pv-avatar " + cls, (name || "?").trim().charAt(0).toUpperCase()));
    const who = el("span", "pv-who");
    who.appendChild(el("strong", null, name));
    if (handle) who.appendChild(el("span", "muted", " @" + handle.replace(/^@/, "")));
    who.appendChild(el("span", "muted", " · " + say.now));
    head.appendChild(who);
    return head;
  }

  function chosen(platform) {
    return document.querySelector('input[name="accounts"][data-platform="' + platform + '"]:checked');
  }

  function draw() {
    const text = $("text") ? $("text").value : "";
    const onX = $("text_x") && $("text_x").value.trim() ? $("text_x").value : text;
    const onFacebook = $("text_facebook") && $("text_facebook").value.trim()
      ? $("text_facebook").value : text;
    const url = $("link") ? $("link").value.trim() : "";
    const images = pictures();
    const x = chosen("x");
    const facebook = chosen("facebook");
    panel.querySelector('[data-role="choose"]').hidden = Boolean(x || facebook);

    const xPanel = panel.querySelector(".preview-x");
    xPanel.hidden = !x;
    const tweets = xPanel.querySelector(".tweets");
    tweets.replaceChildren();
    if (x) {
      const parts = [url && !onX.includes(url) ? onX.trimEnd() + "\n\n" + url : onX];
      document.querySelectorAll(".thread-text").forEach(function (area) {
        if (area.value.trim()) parts.push(area.value);
      });
      parts.forEach(function (part, i) {
        const tweet = el("article", "pv-tweet");
        tweet.dataset.testid = "preview-tweet";
        tweet.appendChild(header(x.dataset.name || say.yourX, x.dataset.handle, "pv-x"));
        tweet.appendChild(richText(part));
        if (i === 0 && images.length) tweet.appendChild(gallery(images));
        if (i === 0 && url && !images.length) tweet.appendChild(linkCard(url));
        tweets.appendChild(tweet);
      });
    }

    const fbPanel = panel.querySelector(".preview-facebook");
    fbPanel.hidden = !facebook;
    const post = fbPanel.querySelector(".fb-post");
    post.replaceChildren();
    if (facebook) {
      const name = facebook.dataset.name || say.yourPage;
      post.appendChild(header(name, "", "pv-fb"));
      post.appendChild(richText(onFacebook));
      if (images.length) post.appendChild(gallery(images));
      else if (url) post.appendChild(linkCard(url));
      const comment = $("first_comment") ? $("first_comment").value.trim() : "";
      if (comment) {
        const box = el("div", "pv-comment");
        box.dataset.testid = "preview-comment";
        box.appendChild(el("strong", null, say.commentBy.replace("%s", name)));
        box.appendChild(el("p", null, comment));
        post.appendChild(box);
      }
    }
  }

  let pending = null;
  function soon() {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(draw);
  }
  document.addEventListener("input", soon);
  document.addEventListener("change", soon);
  // Image previews load after their input's change event: draw again when one has loaded.
  document.querySelectorAll(".image-preview").forEach(function (img) {
    img.addEventListener("load", soon);
  });
  draw();
})();
