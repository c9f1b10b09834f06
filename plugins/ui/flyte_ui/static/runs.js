// The runs list: filters apply on change; the table refreshes itself every 2 s from the JSON API
// (the rows come back rendered by the server, so this script never builds HTML itself).
(() => {
  "use strict";
  const root = document.body.dataset.root || "";
  const form = document.querySelector("form.filters");
  const rows = document.getElementById("runs-rows");
  let last = null; // the rows last put in (innerHTML reads back normalised, so compare with this)
  form.addEventListener("change", () => form.submit());

  async function refresh() {
    if (!document.hidden) {
      const params = new URLSearchParams(location.search);
      params.set("html", "1");
      try {
        const resp = await fetch(`${root}/api/runs?${params}`, { cache: "no-store" });
        if (resp.ok) {
          const html = (await resp.json()).html.rows;
          if (html !== last) {
            rows.innerHTML = html;
            last = html;
          }
        }
      } catch (err) {
        // The server is restarting or gone: keep the last table and try again later.
      }
    }
    setTimeout(refresh, 2000);
  }
  setTimeout(refresh, 2000);
})();
