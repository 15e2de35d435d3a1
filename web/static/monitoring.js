// Monitoring pages: the live "test this query" on the issue form, and confirmations before
// deleting. Without this script the Test button posts the form and the page shows the results.
(function () {
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  const form = document.getElementById("watchlist-form");
  const query = document.getElementById("query");
  const results = document.getElementById("query-test-results");
  if (!form || !query || !results) return;
  const url = query.dataset.testUrl;
  let timer = null;
  let latest = 0;

  async function run() {
    const mine = ++latest;
    const body = new FormData(form);
    body.set("fragment", "1");
    try {
      const response = await fetch(url, { method: "POST", body, credentials: "same-origin" });
      if (mine !== latest || !response.ok) return;  // a newer test is on its way
      results.innerHTML = await response.text();
    } catch (err) {
      // Offline or the server restarting: the Test button still works.
    }
  }

  query.addEventListener("input", () => {
    clearTimeout(timer);
    if (query.value.trim()) timer = setTimeout(run, 600);
  });
  const button = form.querySelector("[data-testid=test-query]");
  if (button) {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      clearTimeout(timer);
      run();
    });
  }
})();
