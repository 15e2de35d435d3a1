// The composer keeps what is typed (publisher.drafts): on the server a moment after each change
// (autosave), and in this browser at every keystroke, so a closed tab or a lost connection
// loses nothing. Opened again, the composer takes back what the server did not get.
(function () {
  "use strict";
  var form = document.querySelector("form.compose[data-autosave]");
  if (!form) { return; }
  var status = document.getElementById("draft-status");
  var idField = form.querySelector('input[name="draft_id"]');
  var WAIT_MS = 1200;
  var timer = null, inFlight = false, again = false;

  function storageKey() { return "megafon-draft:" + (idField.value || "new"); }

  function fields() {
    var data = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "submit" || el.disabled) { return; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      data.append(el.name, el.value);
    });
    return data;
  }

  function remember(saved) {
    try {
      localStorage.setItem(storageKey(), JSON.stringify(
        {fields: fields().toString(), saved: saved, at: Date.now()}));
    } catch (e) { /* private mode or full: the server copy still works */ }
  }

  function say(text, problem) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("why", Boolean(problem));
  }

  function save() {
    timer = null;
    if (inFlight) { again = true; return; }
    inFlight = true;
    var before = storageKey();
    fetch(form.dataset.autosave, {method: "POST", body: fields(), credentials: "same-origin",
                                  headers: {"Accept": "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      })
      .then(function (answer) {
        if (!answer.ok) { say(answer.body.error || status.dataset.offline, true); return; }
        idField.value = String(answer.body.id);
        if (before !== storageKey()) { try { localStorage.removeItem(before); } catch (e) {} }
        remember(true);
        say(answer.body.message, false);
        if (history.replaceState) {
          var url = new URL(window.location.href);
          url.searchParams.set("draft", idField.value);
          history.replaceState(null, "", url.toString());
        }
      })
      .catch(function () { say(status.dataset.offline, true); })
      .then(function () {
        inFlight = false;
        if (again) { again = false; save(); }
      });
  }

  function changed(event) {
    if (event.target && event.target.type === "file") { return; }
    remember(false);
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, WAIT_MS);
  }

  function restore() {
    var kept;
    try { kept = JSON.parse(localStorage.getItem(storageKey()) || "null"); } catch (e) { kept = null; }
    if (!kept || kept.saved) { return; }
    var data = new URLSearchParams(kept.fields);
    if (data.toString() === fields().toString()) { return; }
    var lists = {};
    data.forEach(function (value, name) { (lists[name] = lists[name] || []).push(value); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "hidden" || el.type === "submit") { return; }
      var values = lists[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") { el.checked = values.indexOf(el.value) !== -1; }
      else if (values.length) { el.value = values.shift(); }
    });
    form.dispatchEvent(new Event("input", {bubbles: true}));  // counters, and a save
    say(status.dataset.restored, false);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    if (timer) { clearTimeout(timer); timer = null; }
    try { localStorage.removeItem(storageKey()); } catch (e) {}
  });
  restore();
})();
